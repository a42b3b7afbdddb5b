using System.Text.Json;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;
using Compress.Core.Spec;
using Compress.Core.Tests.Evaluation;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Compress.Core.Tests.Spec;
using Compress.Runtime;

namespace Compress.Core.Tests.Pruning;

/// <summary><c>storage: sparse</c> on a model entry: through the loader and the pipeline to a loadable, smaller file.</summary>
public class SparseStorageSpecTests
{
    [Test]
    public void MisspeltStorageIsOneCodedErrorAtItsValue()
    {
        using var workspace = new SpecWorkspace();
        string yaml = "version: 1\nmodels:\n  - name: m\n    source: models/digits.onnx\n    storage: sprase\n";

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.BadEnumValue, 5, 14);

        Assert.That(error.Message, Does.Contain("Allowed values: dense, sparse."));
    }

    [Test]
    public void SparseEntryIsSmallerThanTheSameDenseEntryReportsItAndRunsTheSame()
    {
        using var folder = new TempFolder();
        string model = SharedMaterial.ModelPath("fashion-cnn");
        string calib = SharedMaterial.DataPath("fashion_calib_x.npy");
        string passes =
            "    passes:\n" +
            "      - prune: { method: magnitude, sparsity: 0.85 }\n" +
            $"      - reconstruct: {{ data: {calib}, samples: 64 }}\n";
        string yaml =
            "version: 1\nmodels:\n" +
            $"  - name: dense\n    source: {model}\n" + passes +
            $"  - name: sparse\n    source: {model}\n    storage: sparse\n" + passes;
        string specPath = folder.File("compress.yaml");
        File.WriteAllText(specPath, yaml);
        SpecLoadResult loaded = SpecLoader.Load(specPath);
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));
        Assert.That(loaded.Spec!.Models.Select(m => m.Storage), Is.EqualTo(new[] { InitializerStorage.Dense, InitializerStorage.Sparse }));

        PipelineResult result = new CompressPipeline(new SilentLog()).Run(loaded.Spec, folder.File("out"));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        ModelReport dense = result.Models.Single(r => r.Name == "dense");
        ModelReport sparse = result.Models.Single(r => r.Name == "sparse");
        TestContext.Out.WriteLine($"fashion-cnn 85% + reconstruct: dense {dense.OutputBytes} B, sparse {sparse.OutputBytes} B; {sparse.SparseStorage!.Initializers} sparse initializers, {sparse.SparseStorage.BytesSaved} B saved");
        Assert.That(dense.SparseStorage, Is.Null);
        Assert.That(sparse.SparseStorage.Initializers, Is.EqualTo(4), "the 2 Conv and 2 Gemm weights");
        Assert.That(dense.OutputBytes - sparse.OutputBytes, Is.InRange(sparse.SparseStorage.BytesSaved, sparse.SparseStorage.BytesSaved + 4));
        Assert.That(sparse.OutputBytes, Is.LessThan(dense.OutputBytes / 2));

        ModelProto storedDense = OnnxModelFile.Load(dense.Output);
        ModelProto storedSparse = OnnxModelFile.Load(sparse.Output);
        Assert.That(storedSparse.Graph.SparseInitializer, Has.Count.EqualTo(4));
        string output = storedDense.Graph.Output[0].Name;
        float[] denseOutputs = PruningMaterial.Tensor(storedDense, output, "fashion_test_x.npy", 100);
        float[] sparseOutputs = PruningMaterial.Tensor(storedSparse, output, "fashion_test_x.npy", 100);
        Assert.That(sparseOutputs, Is.EqualTo(denseOutputs), "ORT rebuilds the same weights");
        SparseInitializerStorage.Densify(storedSparse);
        foreach (TensorProto weight in storedDense.Graph.Initializer)
        {
            Assert.That(storedSparse.Graph.Initializer.Single(t => t.Name == weight.Name).RawData, Is.EqualTo(weight.RawData), weight.Name);
        }

        using (CompressedModel runtime = CompressedModel.Load(sparse.Output))
        {
            Assert.That(runtime.Inputs, Is.Not.Empty, "Compress.Runtime loads the sparse file");
        }

        using JsonDocument schema = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "docs", "report-schema.json")));
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(folder.File("out/sparse.report.json")));
        Assert.That(new JsonSchemaSubset(schema.RootElement).Validate(report.RootElement), Is.Empty);
        JsonElement section = report.RootElement.GetProperty("sparse_storage");
        Assert.That(section.GetProperty("initializers").GetInt32(), Is.EqualTo(4));
        Assert.That(section.GetProperty("bytes_saved").GetInt64(), Is.EqualTo(sparse.SparseStorage.BytesSaved));
    }

    private sealed class SilentLog : IPipelineLog
    {
        public void Info(string message)
        {
        }

        public void Report(Diagnostic diagnostic)
        {
        }
    }
}
