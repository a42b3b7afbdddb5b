using Compress.Core.Diagnostics;
using Compress.Core.Pipeline;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Evaluation;

/// <summary>A temporary folder with a spec over the shared digits model and data, run through <see cref="CompressPipeline"/>.</summary>
internal sealed class EvaluationWorkspace : IDisposable, IPipelineLog
{
    public EvaluationWorkspace() => Root = Directory.CreateTempSubdirectory("compress-eval-").FullName;

    public string Root { get; }

    public string Output => Path.Combine(Root, "out");

    public List<Diagnostic> Logged { get; } = [];

    /// <summary>A one-model spec: digits-mlp with <paramref name="pass"/> and an evaluate block of <paramref name="evaluate"/> lines.</summary>
    public static string DigitsSpec(string pass, string evaluate) => DigitsSpec([$"quantize: {pass}"], evaluate);

    /// <summary>A one-model spec: digits-mlp with <paramref name="passes"/> (one spec entry each) and an evaluate block of <paramref name="evaluate"/> lines.</summary>
    public static string DigitsSpec(IEnumerable<string> passes, string evaluate) => $"""
        version: 1
        models:
          - name: digits
            source: {SharedPath(TestPaths.SharedModel("digits-mlp"))}
            passes:
        {string.Join("\n", passes.Select(p => "      - " + p))}
            evaluate:
              data: {SharedPath(TestPaths.SharedData("digits_test_x.npy"))}
              labels: {SharedPath(TestPaths.SharedData("digits_test_y.npy"))}
        {string.Join("\n", evaluate.Split('\n').Select(l => "      " + l.Trim()))}
        """;

    /// <summary>A path as a spec writes it (forward slashes on every OS).</summary>
    public static string SharedPath(string path) => path.Replace('\\', '/');

    public SpecLoadResult Load(string yaml)
    {
        string path = Path.Combine(Root, "compress.yaml");
        File.WriteAllText(path, yaml.ReplaceLineEndings("\n"));
        return SpecLoader.Load(path);
    }

    public PipelineResult Run(string yaml, AccuracyFailureSeverity severity = AccuracyFailureSeverity.Error, params string[] cacheDirectories)
    {
        SpecLoadResult loaded = Load(yaml);
        Assert.That(loaded.Succeeded, Is.True, string.Join("\n", loaded.Diagnostics));
        var pipeline = new CompressPipeline(this)
        {
            Settings = new CompressPipelineSettings { OnAccuracyFailure = severity, CacheDirectories = cacheDirectories },
        };
        return pipeline.Run(loaded.Spec!, Output);
    }

    /// <summary>Progress updates the pipeline reported, in order.</summary>
    public List<PipelineProgress> ProgressUpdates { get; } = [];

    public void Progress(PipelineProgress progress) => ProgressUpdates.Add(progress);

    public string[] OutputFiles() => Directory.Exists(Output) ? Directory.GetFiles(Output) : [];

    public void Info(string message)
    {
    }

    public void Report(Diagnostic diagnostic) => Logged.Add(diagnostic);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
