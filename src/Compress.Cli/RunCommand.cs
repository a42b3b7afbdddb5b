using System.CommandLine;
using Compress.Core.Diagnostics;
using Compress.Core.IO;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Spec;

namespace Compress.Cli;

/// <summary><c>compress run &lt;spec.yaml&gt; [--output DIR] [...]</c>: compresses every model of a spec.</summary>
internal static class RunCommand
{
    /// <summary>Environment variable naming a cache folder shared by projects (same as <c>--shared-cache-dir</c>).</summary>
    public const string SharedCacheVariable = "COMPRESS_CACHE_DIR";

    /// <summary>Prefix of the <c>--verbose</c> lines; the MSBuild task logs them at low importance (<c>-v:d</c>).</summary>
    public const string DetailPrefix = "compress: detail: ";

    /// <summary>Default of <c>--progress-interval</c>: a build log gets a line every 10 s of a long step, no more.</summary>
    private static readonly TimeSpan DefaultProgressInterval = TimeSpan.FromSeconds(10);

    public static Command Create()
    {
        var spec = new Argument<FileInfo>("spec") { Description = "The compress.yaml to run." };
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Folder for the compressed models and their reports.",
            DefaultValueFactory = _ => new DirectoryInfo("compressed"),
        };
        var inputsList = new Option<FileInfo?>("--inputs-list")
        {
            Description = "Write every file the outputs depend on to this file, one path per line (for incremental builds).",
        };
        var outputsList = new Option<FileInfo?>("--outputs-list")
        {
            Description = "Write every file produced to this file, one path per line (for incremental builds and clean).",
        };
        var modelsList = new Option<FileInfo?>("--models-list")
        {
            Description = "Write one line per compressed model: output, source, report and name separated by tabs (for build items).",
        };
        var cacheDir = new Option<DirectoryInfo?>("--cache-dir")
        {
            Description = "Content-addressed cache of compressed models, looked up first (e.g. obj/.../compress/cache).",
        };
        var sharedCacheDir = new Option<DirectoryInfo?>("--shared-cache-dir")
        {
            Description = $"A second cache shared by projects (e.g. ~/.compress/cache); default: the {SharedCacheVariable} environment variable.",
        };
        var noCache = new Option<bool>("--no-cache") { Description = "Use no cache, not even the shared one." };
        var onAccuracyFailure = new Option<AccuracyFailureSeverity>("--on-accuracy-failure")
        {
            Description = "error (default) or warning: how a model that misses an accuracy budget of its spec is reported. Takes effect for specs with evaluation budgets.",
            DefaultValueFactory = _ => AccuracyFailureSeverity.Error,
        };
        var skipPasses = new Option<bool>("--skip-passes")
        {
            Description = "Write every model without running its passes (the source re-saved with Compress metadata), e.g. for Debug builds.",
        };
        var verbose = new Option<bool>("--verbose") { Description = $"Also print what each pass decided (skipped nodes, notes), prefixed '{DetailPrefix.Trim()}'." };
        var noProgress = new Option<bool>("--no-progress")
        {
            Description = "Show no progress. By default a bar is drawn when stderr is a terminal, and plain lines are printed to stdout when output is redirected.",
        };
        var progressInterval = new Option<double>("--progress-interval")
        {
            Description = "Seconds between plain progress lines when output is redirected (a step shorter than this prints none); 0 prints every update.",
            DefaultValueFactory = _ => DefaultProgressInterval.TotalSeconds,
        };
        progressInterval.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is < 0 or double.NaN)
            {
                result.AddError("--progress-interval must be a number of seconds ≥ 0.");
            }
        });

        var command = new Command("run", "Compress every model of a spec.")
        {
            spec, output, inputsList, outputsList, modelsList, cacheDir, sharedCacheDir, noCache, onAccuracyFailure, skipPasses, verbose, noProgress, progressInterval,
        };
        command.SetAction(parse =>
        {
            var options = new RunOptions
            {
                InputsList = parse.GetValue(inputsList),
                OutputsList = parse.GetValue(outputsList),
                ModelsList = parse.GetValue(modelsList),
                CacheDirectories = parse.GetValue(noCache) ? [] : CacheDirectories(parse.GetValue(cacheDir), parse.GetValue(sharedCacheDir)),
                OnAccuracyFailure = parse.GetValue(onAccuracyFailure),
                SkipPasses = parse.GetValue(skipPasses),
                Verbose = parse.GetValue(verbose),
                Progress = ProgressDisplayChoice.For(parse.GetValue(noProgress), TimeSpan.FromSeconds(parse.GetValue(progressInterval))),
            };
            return Run(parse.GetRequiredValue(spec), parse.GetRequiredValue(output), options);
        });
        return command;
    }

    private static int Run(FileInfo specFile, DirectoryInfo output, RunOptions options)
    {
        var log = new ConsoleLog(options.Progress);
        SpecLoadResult loaded = SpecLoader.Load(specFile.FullName);
        foreach (Diagnostic d in loaded.Diagnostics)
        {
            log.Report(d);
        }

        if (!loaded.Succeeded || loaded.Spec is null)
        {
            return ExitCodes.UserError;
        }

        CompressSpec toRun = options.SkipPasses ? WithoutPasses(loaded.Spec) : loaded.Spec;
        if (options.SkipPasses)
        {
            log.Info("compress: passes skipped (--skip-passes): each model is written as its source with Compress metadata");
        }

        var pipeline = new CompressPipeline(log)
        {
            Settings = new CompressPipelineSettings
            {
                CacheDirectories = options.CacheDirectories,
                OnAccuracyFailure = options.OnAccuracyFailure,
            },
        };
        PipelineResult result;
        try
        {
            result = pipeline.Run(toRun, output.FullName);
        }
        finally
        {
            // Also before an internal error's message, which would otherwise start on the bar's line.
            log.ClearProgress();
        }

        if (options.Verbose)
        {
            PrintDetails(result);
        }

        if (!result.Succeeded)
        {
            return ExitCodes.UserError;
        }

        WriteList(options.InputsList, result.Inputs);
        WriteList(options.OutputsList, result.Outputs);
        WriteList(options.ModelsList, [.. result.Models.Select(m => string.Join('\t', m.Output, m.Source, ReportPathOf(toRun, output.FullName, m), m.Name))]);
        return ExitCodes.Success;
    }

    private static string[] CacheDirectories(DirectoryInfo? local, DirectoryInfo? shared)
    {
        string? sharedPath = shared?.FullName;
        if (sharedPath is null && Environment.GetEnvironmentVariable(SharedCacheVariable) is { Length: > 0 } fromEnvironment)
        {
            sharedPath = Path.GetFullPath(fromEnvironment);
        }

        return [.. new[] { local?.FullName, sharedPath }.OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    private static CompressSpec WithoutPasses(CompressSpec spec) => new()
    {
        SpecPath = spec.SpecPath,
        SpecDirectory = spec.SpecDirectory,
        Version = spec.Version,
        Models = [.. spec.Models.Select(m => new ModelSpec
        {
            Name = m.Name,
            SourcePath = m.SourcePath,
            OutputPath = m.OutputPath,
            ReportPath = m.ReportPath,
            Location = m.Location,
            Passes = [],
        })],
    };

    private static string ReportPathOf(CompressSpec spec, string outputRoot, ModelReport report) =>
        Path.GetFullPath(Path.Combine(outputRoot, spec.Models.First(m => m.Name == report.Name).ReportPath));

    private static void PrintDetails(PipelineResult result)
    {
        foreach (ModelReport model in result.Models)
        {
            foreach (PassReport pass in model.Passes)
            {
                Console.Out.WriteLine($"{DetailPrefix}{model.Name}: {pass}");
                foreach (string note in pass.Notes)
                {
                    Console.Out.WriteLine($"{DetailPrefix}{model.Name}: {pass.Pass}: {note}");
                }

                foreach (SkippedNode node in pass.SkippedNodes)
                {
                    Console.Out.WriteLine($"{DetailPrefix}{model.Name}: {pass.Pass}: skipped {node.Node} ({node.OpType}, graph {node.Graph}): {node.Reason}");
                }
            }
        }
    }

    private static void WriteList(FileInfo? file, IReadOnlyList<string> lines)
    {
        if (file is not null)
        {
            AtomicFile.WriteAllBytes(file.FullName, System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n"));
        }
    }

    /// <summary>The parsed options of one <c>run</c>.</summary>
    private sealed class RunOptions
    {
        public FileInfo? InputsList { get; init; }

        public FileInfo? OutputsList { get; init; }

        public FileInfo? ModelsList { get; init; }

        public IReadOnlyList<string> CacheDirectories { get; init; } = [];

        public AccuracyFailureSeverity OnAccuracyFailure { get; init; }

        public bool SkipPasses { get; init; }

        public bool Verbose { get; init; }

        public IProgressDisplay? Progress { get; init; }
    }
}
