using System.Runtime.InteropServices;
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
using Compress.Runtime.Data;
using Google.Protobuf;

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

        PipelineResult result = new CompressPipeline(new SilentPipelineLog()).Run(loaded.Spec, folder.File("out"));

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

    [Test]
    public void SparseEntryOverTheExternalDataLimitWritesALoadableModelAndDataFileThatAnotherRunReadsBack()
    {
        using var folder = new TempFolder();
        string model = SharedMaterial.ModelPath("fashion-cnn");
        const string passes = "    passes:\n      - prune: { method: magnitude, sparsity: 0.85 }\n";
        string specPath = folder.File("compress.yaml");
        File.WriteAllText(specPath,
            "version: 1\nmodels:\n" +
            $"  - name: dense\n    source: {model}\n" + passes +
            $"  - name: sparse\n    source: {model}\n    storage: sparse\n" + passes);
        SpecLoadResult loaded = SpecLoader.Load(specPath);
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));

        // The pipeline saves with ExternalData = Auto; a 64 KiB limit stands in for protobuf's 2 GB.
        var pipeline = new CompressPipeline(new SilentPipelineLog()) { Settings = new CompressPipelineSettings { ExternalDataSizeLimitBytes = 64 * 1024 } };
        PipelineResult result = pipeline.Run(loaded.Spec!, folder.File("out"));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        ModelReport dense = result.Models.Single(r => r.Name == "dense");
        ModelReport sparse = result.Models.Single(r => r.Name == "sparse");
        string sparseData = sparse.Output + ".data";
        Assert.That(result.Outputs, Does.Contain(sparse.Output).And.Contain(sparseData).And.Contain(dense.Output + ".data"));
        Assert.That(sparse.OutputBytes, Is.EqualTo(new FileInfo(sparse.Output).Length + new FileInfo(sparseData).Length), "the report counts the data file");
        Assert.That(sparse.SparseStorage!.Initializers, Is.EqualTo(4));
        Assert.That(sparse.OutputBytes, Is.LessThan(dense.OutputBytes / 2), "still sparse with external data");

        ModelProto references = OnnxModelFile.Load(sparse.Output, new OnnxLoadOptions { LoadExternalData = false });
        Assert.That(references.Graph.SparseInitializer, Has.Count.EqualTo(4));
        Assert.That(references.Graph.SparseInitializer.Count(s => TensorData.IsExternal(s.Values) && TensorData.IsExternal(s.Indices)), Is.Positive, "values and positions in the data file");

        float[] denseOutputs = RunFirstSamples(dense.Output);
        Assert.That(RunFirstSamples(sparse.Output), Is.EqualTo(denseOutputs), "Compress.Runtime (ORT) loads the sparse model and its data file; same weights, same outputs");

        // The sparse, external output as the source of another build: read back, densified, saved in one file.
        File.WriteAllText(specPath, $"version: 1\nmodels:\n  - name: again\n    source: {sparse.Output}\n");
        PipelineResult again = new CompressPipeline(new SilentPipelineLog()).Run(SpecLoader.Load(specPath).Spec!, folder.File("again"));

        Assert.That(again.Diagnostics, Is.Empty, () => string.Join('\n', again.Diagnostics));
        Assert.That(again.Inputs, Does.Contain(sparseData), "the source's data file is an input of the build");
        ModelProto reread = OnnxModelFile.Load(again.Models.Single().Output);
        Assert.That(reread.Graph.SparseInitializer, Is.Empty);
        Assert.That(File.Exists(again.Models.Single().Output + ".data"), Is.False);
        ModelProto storedDense = OnnxModelFile.Load(dense.Output);
        foreach (TensorProto weight in storedDense.Graph.Initializer)
        {
            Assert.That(reread.Graph.Initializer.Single(t => t.Name == weight.Name).RawData, Is.EqualTo(weight.RawData), weight.Name);
        }

        Assert.That(RunFirstSamples(again.Models.Single().Output), Is.EqualTo(denseOutputs));
    }

    [Test]
    public void RerunThatFitsInOneFileRemovesTheDataFileOfAnEarlierRun()
    {
        using var folder = new TempFolder();
        string specPath = folder.File("compress.yaml");
        File.WriteAllText(specPath,
            $"version: 1\nmodels:\n  - name: m\n    source: {SharedMaterial.ModelPath("digits-mlp")}\n    storage: sparse\n" +
            "    passes:\n      - prune: { method: magnitude, sparsity: 0.9 }\n      - quantize: { mode: dynamic }\n    pack: brotli\n");
        CompressSpec spec = SpecLoader.Load(specPath).Spec!;
        string output = folder.File("out/m.onnx");
        Directory.CreateDirectory(folder.File("out"));
        File.WriteAllBytes(output + ".data", new byte[4096]); // as an earlier run over the limit would have left it

        PipelineResult result = new CompressPipeline(new SilentPipelineLog()).Run(spec, folder.File("out"));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(File.Exists(output + ".data"), Is.False, "the new model does not refer to it");
        Assert.That(result.Outputs, Does.Not.Contain(output + ".data"));
        Assert.That(result.Models.Single().OutputBytes, Is.EqualTo(new FileInfo(output).Length));
        Assert.That(File.Exists(output + ".br"), Is.True, "pack: brotli is possible again without the stale data file");
    }

    [Test]
    public void SourceWhoseSparseValuesLieOutsideItsFolderFailsWithLocationInvalid()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("models"));
        File.WriteAllBytes(folder.File("secret.bin"), new byte[64]);
        var sparse = new SparseTensorProto
        {
            Values = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 4 }, DataLocation = TensorProto.Types.DataLocation.External },
            Indices = TensorData.CreateInt64(string.Empty, [4], [0, 2, 4, 6]),
            Dims = { 8 },
        };
        sparse.Values.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../secret.bin" });
        var graph = new GraphProto { Name = "g", SparseInitializer = { sparse } };
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "W" }, Output = { "y" } });
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var source = new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };
        string sourcePath = folder.File("models/m.onnx");
        File.WriteAllBytes(sourcePath, source.ToByteArray());
        string specPath = folder.File("compress.yaml");
        File.WriteAllText(specPath, "version: 1\nmodels:\n  - name: m\n    source: models/m.onnx\n    storage: sparse\n");

        PipelineResult result = new CompressPipeline(new SilentPipelineLog()).Run(SpecLoader.Load(specPath).Spec!, folder.File("out"));

        Diagnostic error = result.Diagnostics.Single();
        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.ExternalDataLocationInvalid));
        Assert.That(error.Message, Does.Contain("values of sparse initializer 'W'").And.Contain("'../secret.bin'"));
        Assert.That(error.File, Is.EqualTo(sourcePath));
        Assert.That(result.Models, Is.Empty);
        Assert.That(Directory.Exists(folder.File("out")) ? Directory.GetFiles(folder.File("out")) : [], Is.Empty, "nothing written");
    }

    /// <summary>The first output of the model file on 100 fashion test samples, run by Compress.Runtime.</summary>
    private static float[] RunFirstSamples(string modelPath)
    {
        const int samples = 100;
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath("fashion_test_x.npy"));
        float[] data = MemoryMarshal.Cast<byte, float>(x.SampleBytes(0, samples)).ToArray();
        using CompressedModel model = CompressedModel.Load(modelPath);
        return model.Run(data, [samples, .. x.Shape.Skip(1)]).AsSpan<float>().ToArray();
    }
}
