using System.CommandLine;
using Compress.Core.Diagnostics;
using Compress.Core.IO;
using Compress.Core.Pipeline;
using Compress.Core.Spec;

namespace Compress.Cli;

/// <summary><c>compress run &lt;spec.yaml&gt; [--output DIR]</c>: compresses every model of a spec.</summary>
internal static class RunCommand
{
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

        var command = new Command("run", "Compress every model of a spec.") { spec, output, inputsList, outputsList };
        command.SetAction(parse => Run(
            parse.GetRequiredValue(spec),
            parse.GetRequiredValue(output),
            parse.GetValue(inputsList),
            parse.GetValue(outputsList)));
        return command;
    }

    private static int Run(FileInfo specFile, DirectoryInfo output, FileInfo? inputsList, FileInfo? outputsList)
    {
        var log = new ConsoleLog();
        SpecLoadResult loaded = SpecLoader.Load(specFile.FullName);
        foreach (Diagnostic d in loaded.Diagnostics)
        {
            log.Report(d);
        }

        if (!loaded.Succeeded || loaded.Spec is null)
        {
            return ExitCodes.UserError;
        }

        PipelineResult result = new CompressPipeline(log).Run(loaded.Spec, output.FullName);
        if (!result.Succeeded)
        {
            return ExitCodes.UserError;
        }

        WriteList(inputsList, result.Inputs);
        WriteList(outputsList, result.Outputs);
        return ExitCodes.Success;
    }

    private static void WriteList(FileInfo? file, IReadOnlyList<string> paths)
    {
        if (file is not null)
        {
            AtomicFile.WriteAllBytes(file.FullName, System.Text.Encoding.UTF8.GetBytes(string.Join('\n', paths) + "\n"));
        }
    }
}
