using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Packing;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Spec;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Compress.Core.Tests.Spec;
using Compress.Runtime;

namespace Compress.Core.Tests.Pruning;

/// <summary>The prune / reconstruct passes and pack: brotli in the spec, through the loader, the pass runner and the pipeline.</summary>
public class PruneSpecTests
{
    private const string IssueSnippet =
        "      - prune: { method: magnitude, sparsity: 0.5, scope: per_layer }\n" +
        "      - prune: { method: structured, ratio: 0.25 }\n" +
        "      - reconstruct: { data: data/calib.npy }\n";

    [Test]
    public void TheIssueSnippetParsesWithPositions()
    {
        using var workspace = new SpecWorkspace();

        SpecLoadResult result = workspace.Parse(SpecWorkspace.WithPass(IssueSnippet));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        IReadOnlyList<PassSpec> passes = result.Spec!.Models[0].Passes;
        Assert.That(string.Join(",", passes.Select(p => p.Kind)), Is.EqualTo("prune,prune,reconstruct"));
        Assert.That(string.Join(" ", passes.Select(p => $"{p.Location.Line}:{p.Location.Column}")), Is.EqualTo("6:9 7:9 8:9"));
        var magnitude = (PrunePassSpec)passes[0];
        Assert.That((magnitude.Method, magnitude.Sparsity, magnitude.Scope), Is.EqualTo((PruneMethod.Magnitude, (double?)0.5, MagnitudePruningScope.PerLayer)));
        var structured = (PrunePassSpec)passes[1];
        Assert.That((structured.Method, structured.Ratio, structured.ChannelMultiple), Is.EqualTo((PruneMethod.Structured, (double?)0.25, 16)));
        Assert.That(((ReconstructPassSpec)passes[2]).DataPaths.Single(), Is.EqualTo(workspace.PathOf("data/calib.npy")));
    }

    [TestCase("      - prune: { method: magnitude, sparsity: 0.5, threshold: 0.01 }", DiagnosticCodes.ConflictingOptions, 6, 52)]
    [TestCase("      - prune: { method: magnitude, ratio: 0.5 }", DiagnosticCodes.KeyNotApplicable, 6, 37)]
    [TestCase("      - prune: { method: structured }", DiagnosticCodes.MissingKey, 6, 9)]
    [TestCase("      - prune: { method: magnitude, pattern: \"5:4\" }", DiagnosticCodes.InvalidValue, 6, 46)]
    [TestCase("      - prune: { method: trim, sparsity: 0.5 }", DiagnosticCodes.BadEnumValue, 6, 26)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, channel_multiple: 0 }", DiagnosticCodes.OutOfRange, 6, 69)]
    [TestCase("      - prune: { method: magnitude, sparsity: 0.5, channel_multiple: 8 }", DiagnosticCodes.KeyNotApplicable, 6, 52)]
    [TestCase("      - reconstruct: { samples: 8 }", DiagnosticCodes.MissingKey, 6, 9)]
    [TestCase("      - reconstruct: { data: data/none.npy }", DiagnosticCodes.DataFileMissing, 6, 30)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, importance: activations }", DiagnosticCodes.MissingKey, 6, 51)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, data: data/calib.npy }", DiagnosticCodes.ConflictingOptions, 6, 51)]
    [TestCase("      - prune: { method: magnitude, sparsity: 0.5, importance: activations }", DiagnosticCodes.MissingKey, 6, 52)]
    [TestCase("      - prune: { method: magnitude, threshold: 0.01, importance: activations, data: data/calib.npy }", DiagnosticCodes.ConflictingOptions, 6, 54)]
    [TestCase("      - prune: { method: magnitude, sparsity: 0.5, data: data/calib.npy }", DiagnosticCodes.ConflictingOptions, 6, 52)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, importance: activations, data: data/none.npy }", DiagnosticCodes.DataFileMissing, 6, 82)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, importance: gradients, data: data/calib.npy }", DiagnosticCodes.BadEnumValue, 6, 63)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, scope: global }", DiagnosticCodes.ConflictingOptions, 6, 58)]
    [TestCase("      - prune: { method: structured, ratio: 0.25, scope: everywhere }", DiagnosticCodes.BadEnumValue, 6, 58)]
    public void MistakesAreOneCodedErrorAtTheirPosition(string pass, string code, int line, int column)
    {
        using var workspace = new SpecWorkspace();
        workspace.SingleError(SpecWorkspace.WithPass(pass), code, line, column);
    }

    [Test]
    public void ScheduleRunsThroughThePipelineAndPackBrotliShipsALoadableFile()
    {
        using var folder = new TempFolder();
        string calib = SharedMaterial.DataPath("digits_calib_x.npy");
        string yaml =
            "version: 1\nmodels:\n  - name: digits\n" +
            $"    source: {SharedMaterial.ModelPath("digits-mlp")}\n    pack: brotli\n    passes:\n" +
            "      - prune: { method: magnitude, sparsity: 0.5 }\n" +
            $"      - reconstruct: {{ data: {calib}, samples: 128 }}\n" +
            $"      - quantize: {{ mode: static, calibration: {{ data: {calib}, samples: 64 }} }}\n";
        string specPath = folder.File("compress.yaml");
        File.WriteAllText(specPath, yaml);
        SpecLoadResult loaded = SpecLoader.Load(specPath);
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));
        Assert.That(loaded.Spec!.Models[0].Pack, Is.EqualTo(PackFormat.Brotli));

        PipelineResult result = new CompressPipeline(new SilentPipelineLog()).Run(loaded.Spec, folder.File("out"));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        ModelReport report = result.Models.Single();
        Assert.That(string.Join(",", report.Passes.Select(p => p.Pass)), Is.EqualTo($"{MagnitudePruning.PassName},{Reconstruction.PassName},graph_cleanup,static_quantization"));
        Assert.That(report.Passes[0].Notes.Count(n => n.Contains("sparsity 0.5000", StringComparison.Ordinal)), Is.EqualTo(3), "per-layer sparsity of the 3 Gemm weights");
        Assert.That(report.Passes[1].Count("layers_reconstructed"), Is.EqualTo(3));

        string onnx = folder.File("out/digits.onnx");
        string packed = onnx + ".br";
        Assert.That(result.Outputs, Does.Contain(packed));
        Assert.That(BrotliPacker.Decompress(File.ReadAllBytes(packed)), Is.EqualTo(File.ReadAllBytes(onnx)));
        using CompressedModel model = CompressedModel.Load(packed);
        Assert.That(model.Inputs.Single().Name, Is.EqualTo("input"));
        double accuracy = PruningMaterial.Accuracy(OnnxModelFile.Load(onnx), "digits-mlp");
        TestContext.Out.WriteLine($"prune 50% -> reconstruct -> static int8: {new FileInfo(packed).Length} B packed, {report.OutputBytes} B onnx, top-1 {accuracy:F4}");
        Assert.That(accuracy, Is.GreaterThan(0.94));
    }

    [Test]
    public void ReconstructWithoutPruneIsReportedAtThePass()
    {
        using var workspace = new SpecWorkspace();
        SpecLoadResult loaded = workspace.Parse(SpecWorkspace.WithPass("      - reconstruct: { data: data/calib.npy }"));
        ModelProto model = SharedMaterial.LoadModel("digits-mlp");

        CompressException? error = Assert.Throws<CompressException>(() => PassRunner.Run(model, loaded.Spec!.Models[0].Passes[0]));

        Assert.That((error!.Diagnostic.Code, error.Diagnostic.Line, error.Diagnostic.Column), Is.EqualTo((DiagnosticCodes.ConflictingOptions, 6, 9)));
    }

    [Test]
    public void PassRunnerRunsTheStructuredEntry()
    {
        using var workspace = new SpecWorkspace();
        SpecLoadResult loaded = workspace.Parse(SpecWorkspace.WithPass("      - prune: { method: structured, ratio: 0.25, norm: l1 }"));
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        long before = PruningMaterial.Parameters(model);

        IReadOnlyList<PassReport> reports = PassRunner.Run(model, loaded.Spec!.Models[0].Passes[0]);

        Assert.That(reports.Single().Pass, Is.EqualTo(StructuredPruning.PassName));
        Assert.That(before - PruningMaterial.Parameters(model), Is.EqualTo(reports[0].Count("parameters_removed")).And.GreaterThan(0));
    }

    [Test]
    public void StructuredEntryWithActivationImportanceReadsItsData()
    {
        using var workspace = new SpecWorkspace();
        SpecLoadResult loaded = workspace.Parse(SpecWorkspace.WithPass("      - prune: { method: structured, ratio: 0.25, importance: activations, data: data/calib.npy, samples: 64 }"));
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));
        var parsed = (PrunePassSpec)loaded.Spec!.Models[0].Passes[0];
        Assert.That((parsed.Importance, parsed.DataPaths.Single(), parsed.Samples), Is.EqualTo((StructuredPruningImportance.Activations, workspace.PathOf("data/calib.npy"), 64)));
        Assert.That(ModelInputFiles.DataFilesOf(parsed), Is.EqualTo(new[] { workspace.PathOf("data/calib.npy") }), "the data is an input of the cached build");

        // The same entry on real data through the pass runner.
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        long before = PruningMaterial.Parameters(model);
        var spec = new PrunePassSpec { Method = PruneMethod.Structured, Ratio = 0.25, Importance = StructuredPruningImportance.Activations, DataPaths = [SharedMaterial.DataPath("fashion_calib_x.npy")], Samples = 64 };

        PassReport report = PassRunner.Run(model, spec).Single();

        Assert.That(report.Notes[^1], Does.Contain("importance activations"));
        Assert.That(report.Notes.Where(n => n.Contains("kept by weight norm", StringComparison.Ordinal)), Is.Empty);
        Assert.That(before - PruningMaterial.Parameters(model), Is.EqualTo(report.Count("parameters_removed")).And.GreaterThan(0));
    }

    [Test]
    public void StructuredGlobalScopeParsesAndReachesThePass()
    {
        using var workspace = new SpecWorkspace();
        SpecLoadResult loaded = workspace.Parse(SpecWorkspace.WithPass("      - prune: { method: structured, ratio: 0.25, importance: activations, data: data/calib.npy, scope: global }"));
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));
        Assert.That(((PrunePassSpec)loaded.Spec!.Models[0].Passes[0]).Scope, Is.EqualTo(MagnitudePruningScope.Global));

        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        long before = PruningMaterial.Parameters(model);
        var spec = new PrunePassSpec { Method = PruneMethod.Structured, Ratio = 0.25, Importance = StructuredPruningImportance.Activations, DataPaths = [SharedMaterial.DataPath("fashion_calib_x.npy")], Samples = 64, Scope = MagnitudePruningScope.Global };

        PassReport report = PassRunner.Run(model, spec).Single();

        Assert.That(report.Notes, Has.One.StartsWith("global allocation: "));
        Assert.That(report.Notes[^1], Does.Contain("global"));
        Assert.That(before - PruningMaterial.Parameters(model), Is.EqualTo(report.Count("parameters_removed")).And.GreaterThan(0));
    }
}
