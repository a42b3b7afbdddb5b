using System.Globalization;
using System.Runtime.InteropServices;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Pruning;

/// <summary>
/// Sparse initializers in a model saved with external data: their <c>values</c> and <c>indices</c> tensors go to
/// the data file like dense tensors (ONNX allows it, ONNX Runtime 1.31 reads them), load back losslessly, and
/// follow the same location rules.
/// </summary>
public class SparseStorageExternalDataTests
{
    private const int Samples = 200;

    [TestCase("digits-mlp")]
    [TestCase("fashion-cnn")]
    public void PrunedModelOverTheSizeLimitKeepsSparseTensorsExternalRoundTripsAndOrtGivesTheSameOutputs(string name)
    {
        using var folder = new TempFolder();
        ModelProto dense = SharedMaterial.LoadModel(name);
        MagnitudePruning.Run(dense, new MagnitudePruningOptions { Sparsity = 0.85, Scope = MagnitudePruningScope.PerLayer });
        ModelProto sparse = dense.Clone();
        Assert.That(SparseInitializerStorage.Store(sparse).Initializers, Is.Positive);
        int inlineSize = OnnxModelFile.ToBytes(sparse).Length;
        string path = folder.File("m.onnx");

        // Auto, as the pipeline saves, with the 2 GB limit lowered to just below this model's size.
        OnnxModelFile.Save(sparse, path, new OnnxSaveOptions { SizeLimitBytes = inlineSize - 1 });

        Assert.That(folder.FileList(), Is.EqualTo("m.onnx,m.onnx.data"));
        ModelProto references = OnnxModelFile.Load(path, new OnnxLoadOptions { LoadExternalData = false });
        var before = sparse.Graph.SparseInitializer.ToDictionary(s => s.Values.Name);
        foreach (SparseTensorProto stored in references.Graph.SparseInitializer)
        {
            SparseTensorProto original = before[stored.Values.Name];
            Assert.That(TensorData.IsExternal(stored.Values), Is.EqualTo(original.Values.RawData.Length >= 1024), $"values of {stored.Values.Name}");
            Assert.That(TensorData.IsExternal(stored.Indices), Is.EqualTo(original.Indices.RawData.Length >= 1024), $"indices of {stored.Values.Name}");
        }

        Assert.That(references.Graph.SparseInitializer.Count(s => TensorData.IsExternal(s.Values) && TensorData.IsExternal(s.Indices)), Is.Positive);
        Assert.That(new FileInfo(path).Length, Is.LessThan(inlineSize / 4), "the weights left the model file");

        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(sparse), "values and positions are read back exactly");
        foreach (GraphOptimizationLevel level in new[] { GraphOptimizationLevel.ORT_DISABLE_ALL, GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            float[] expected = Outputs(o => new InferenceSession(dense.ToByteArray(), o), name, level);
            Assert.That(Outputs(o => new InferenceSession(path, o), name, level), Is.EqualTo(expected), $"bit-identical outputs at {level}");
        }
    }

    [Test]
    public void MainGraphSparseTensorsGoExternalSubgraphIndicesStayInlineAndOrtRunsBoth()
    {
        using var folder = new TempFolder();
        ModelProto dense = BranchModel();
        ModelProto sparse = dense.Clone();
        Assert.That(SparseInitializerStorage.Store(sparse).Initializers, Is.EqualTo(2));
        string path = folder.File("m.onnx");

        OnnxModelFile.Save(sparse, path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always, MinExternalTensorBytes = 0 });

        ModelProto references = OnnxModelFile.Load(path, new OnnxLoadOptions { LoadExternalData = false });
        SparseTensorProto main = references.Graph.SparseInitializer.Single();
        SparseTensorProto branch = ThenBranch(references).SparseInitializer.Single();
        SparseTensorProto constant = ThenBranch(references).Node.Single(n => n.OpType == "Constant").Attribute.Single().SparseTensor;
        Assert.That(TensorData.TypeOf(main.Indices), Is.EqualTo(TensorProto.Types.DataType.Int8), "narrowest positions in the main graph");
        Assert.That(TensorData.TypeOf(branch.Indices), Is.EqualTo(TensorProto.Types.DataType.Int64), "int64 positions in the subgraph");
        foreach (TensorProto part in new[] { main.Values, main.Indices, branch.Values, constant.Values })
        {
            Assert.That(TensorData.IsExternal(part), Is.True, part.Name);
            Assert.That(part.HasRawData, Is.False, part.Name);
            Assert.That(part.ExternalData.Single(e => e.Key == "location").Value, Is.EqualTo("m.onnx.data"));
            Assert.That(long.Parse(part.ExternalData.Single(e => e.Key == "offset").Value, CultureInfo.InvariantCulture) % 4096, Is.Zero, "page-aligned");
        }

        foreach (TensorProto indices in new[] { branch.Indices, constant.Indices })
        {
            Assert.That(TensorData.IsExternal(indices), Is.False, "the ONNX checker ORT runs on subgraphs parses indices and cannot read external data");
            Assert.That(indices.HasRawData, Is.True);
        }

        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(sparse));
        Assert.That(RunBranchModel(new InferenceSession(path)), Is.EqualTo(RunBranchModel(new InferenceSession(dense.ToByteArray()))));
    }

    [Test]
    public void OrtRefusesExternalIndicesInASubgraphWhichIsWhyTheWriterKeepsThemInline()
    {
        // The same model with the subgraph's indices moved to the data file by hand, as a writer without the
        // rule would do: ONNX Runtime's checker fails on it. If a later ORT accepts it, this test says so.
        using var folder = new TempFolder();
        ModelProto sparse = BranchModel();
        SparseInitializerStorage.Store(sparse);
        string path = folder.File("m.onnx");
        OnnxModelFile.Save(sparse, path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always, MinExternalTensorBytes = 0 });
        ModelProto references = OnnxModelFile.Load(path, new OnnxLoadOptions { LoadExternalData = false });
        TensorProto indices = ThenBranch(references).SparseInitializer.Single().Indices;
        byte[] bytes = indices.RawData.ToByteArray();
        using (var data = new FileStream(folder.File("m.onnx.data"), FileMode.Append))
        {
            indices.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "m.onnx.data" });
            indices.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = data.Length.ToString(CultureInfo.InvariantCulture) });
            indices.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(CultureInfo.InvariantCulture) });
            data.Write(bytes);
        }

        indices.ClearRawData();
        indices.DataLocation = TensorProto.Types.DataLocation.External;
        File.WriteAllBytes(path, references.ToByteArray());
        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(sparse), "the file itself is valid ONNX and Compress reads it");

        var e = Assert.Throws<OnnxRuntimeException>(() => new InferenceSession(path).Dispose());

        Assert.That(e!.Message, Does.Contain("Cannot parse data from external tensors"));
    }

    [Test]
    public void RepeatedSavesGiveTheSameModelAndDataBytes()
    {
        using var folder = new TempFolder();
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.8 });
        SparseInitializerStorage.Store(model);
        var options = new OnnxSaveOptions { ExternalData = ExternalDataMode.Always };

        OnnxModelFile.Save(model, folder.File("a.onnx"), options with { ExternalDataFileName = "weights.bin" });
        byte[] firstModel = File.ReadAllBytes(folder.File("a.onnx"));
        byte[] firstData = File.ReadAllBytes(folder.File("weights.bin"));
        OnnxModelFile.Save(model.Clone(), folder.File("a.onnx"), options with { ExternalDataFileName = "weights.bin" });
        OnnxModelFile.Save(model.Clone(), folder.File("b.onnx"), options with { ExternalDataFileName = "weights.bin" });

        Assert.That(File.ReadAllBytes(folder.File("a.onnx")), Is.EqualTo(firstModel), "same model, same bytes");
        Assert.That(File.ReadAllBytes(folder.File("b.onnx")), Is.EqualTo(firstModel), "the model file name is not recorded in the model");
        Assert.That(File.ReadAllBytes(folder.File("weights.bin")), Is.EqualTo(firstData));
        Assert.That(folder.FileList(), Is.EqualTo("a.onnx,b.onnx,weights.bin"), "no temporary files left");
    }

    [Test]
    public void SaveFailureBeforeCommitKeepsTheOldModelAndDataFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.onnx");
        ModelProto model = BranchModel();
        SparseInitializerStorage.Store(model);
        var options = new OnnxSaveOptions { ExternalData = ExternalDataMode.Always, MinExternalTensorBytes = 0 };
        OnnxModelFile.Save(model, path, options);
        byte[] oldModel = File.ReadAllBytes(path);
        byte[] oldData = File.ReadAllBytes(folder.File("m.onnx.data"));
        ModelProto changed = model.Clone();
        changed.Graph.SparseInitializer[0].Values = TensorData.CreateFloat("W_main", [2], [9f, 10f]);
        changed.Graph.SparseInitializer[0].Indices = TensorData.CreateInt64(string.Empty, [2], [0, 1]);

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Save(
            changed, path, options with { BeforeCommit = () => throw new IOException("simulated disk failure") }));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ModelWriteFailed));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(oldModel));
        Assert.That(File.ReadAllBytes(folder.File("m.onnx.data")), Is.EqualTo(oldData));
        Assert.That(folder.FileList(), Is.EqualTo("m.onnx,m.onnx.data"), "no temporary files left");
        Assert.That(OnnxModelFile.Load(path), Is.EqualTo(model));
    }

    [TestCase("values", false, "../w.bin")]
    [TestCase("indices", false, "sub/../../w.bin")]
    [TestCase("values", false, "ABSOLUTE")]
    [TestCase("indices", false, "ABSOLUTE")]
    [TestCase("values", true, "../w.bin")]
    [TestCase("indices", true, "ABSOLUTE")]
    public void LoadSparseLocationOutsideTheModelFolderFailsWithLocationInvalid(string part, bool inSubgraph, string location)
    {
        using var outer = new TempFolder();
        string modelFolder = Path.Combine(outer.Path, "model");
        Directory.CreateDirectory(Path.Combine(modelFolder, "sub"));
        string weights = outer.File("w.bin");
        File.WriteAllBytes(weights, new byte[64]); // exists and is long enough, so only the location rule can reject it
        if (location == "ABSOLUTE")
        {
            location = weights;
        }

        string path = Path.Combine(modelFolder, "m.onnx");
        File.WriteAllBytes(path, ModelWithExternalSparsePart(part, location, inSubgraph).ToByteArray());

        var e = Assert.Throws<CompressException>(() => OnnxModelFile.Load(path));

        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.ExternalDataLocationInvalid));
        Assert.That(e.Message, Does.Contain($"{part} of sparse initializer 'W'").And.Contain($"'{location}'"));
        Assert.That(e.Message, inSubgraph ? Does.Contain("subgraph 'then'") : Does.Not.Contain("subgraph"));
        Assert.That(e.Diagnostic.File, Is.EqualTo(path));
    }

    [Test]
    public void LoadSparsePartWithinTheModelFolderReadsIt()
    {
        // The same hand-written layout as above, with a legal location: the rejection is about the path only.
        using var folder = new TempFolder();
        float[] values = [1.5f, -2f, 3.25f, 4f];
        byte[] file = new byte[64];
        MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(file);
        Directory.CreateDirectory(folder.File("sub"));
        File.WriteAllBytes(folder.File("sub/w.bin"), file);
        string path = folder.File("m.onnx");
        File.WriteAllBytes(path, ModelWithExternalSparsePart("values", "sub/w.bin", inSubgraph: false).ToByteArray());

        ModelProto loaded = OnnxModelFile.Load(path);

        SparseTensorProto sparse = loaded.Graph.SparseInitializer.Single();
        Assert.That(TensorData.IsExternal(sparse.Values), Is.False);
        Assert.That(TensorData.ReadFloats(SparseInitializerStorage.ToDense(sparse)), Is.EqualTo(new[] { 1.5f, 0f, -2f, 0f, 3.25f, 0f, 4f, 0f }));
    }

    /// <summary>
    /// y = cond ? x + W_then + c_then : x (W_then stored sparse in the then-branch, int64 positions; c_then a
    /// Constant node's sparse_value) and
    /// z = v + W_main (W_main with 100 elements, so int8 positions in the main graph).
    /// </summary>
    private static ModelProto BranchModel()
    {
        const int n = 1000;
        var thenBranch = new GraphProto { Name = "then" };
        thenBranch.Initializer.Add(TensorData.CreateFloat("W_then", [n], [.. Enumerable.Range(0, n).Select(i => i % 20 == 0 ? i + 0.5f : 0f)]));
        thenBranch.Node.Add(new NodeProto
        {
            OpType = "Constant",
            Output = { "c_then" },
            Attribute =
            {
                new AttributeProto
                {
                    Name = "sparse_value",
                    Type = AttributeProto.Types.AttributeType.SparseTensor,
                    SparseTensor = SparseInitializerStorage.ToSparse(
                        TensorData.CreateFloat("c_then", [n], [.. Enumerable.Range(0, n).Select(i => i % 50 == 7 ? -0.25f * i : 0f)]), int64Indices: true),
                },
            },
        });
        thenBranch.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "W_then" }, Output = { "sum_then" } });
        thenBranch.Node.Add(new NodeProto { OpType = "Add", Input = { "sum_then", "c_then" }, Output = { "then_out" } });
        thenBranch.Output.Add(FloatValue("then_out", n));
        var elseBranch = new GraphProto { Name = "else" };
        elseBranch.Node.Add(new NodeProto { OpType = "Identity", Input = { "x" }, Output = { "else_out" } });
        elseBranch.Output.Add(FloatValue("else_out", n));
        var graph = new GraphProto { Name = "main" };
        graph.Initializer.Add(TensorData.CreateFloat("W_main", [100], [.. Enumerable.Range(0, 100).Select(i => i % 9 == 4 ? -0.75f * i : 0f)]));
        graph.Node.Add(new NodeProto
        {
            OpType = "If",
            Name = "branch",
            Input = { "cond" },
            Output = { "y" },
            Attribute =
            {
                new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch },
                new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch },
            },
        });
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "v", "W_main" }, Output = { "z" } });
        graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TensorType(TensorProto.Types.DataType.Bool) });
        graph.Input.Add(FloatValue("x", n));
        graph.Input.Add(FloatValue("v", 100));
        graph.Output.Add(FloatValue("y", n));
        graph.Output.Add(FloatValue("z", 100));
        return Model(graph);
    }

    private static GraphProto ThenBranch(ModelProto model) => model.Graph.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "then_branch").G;

    /// <summary>y (then-branch taken) followed by z.</summary>
    private static float[] RunBranchModel(InferenceSession session)
    {
        using (session)
        {
            float[] x = [.. Enumerable.Range(0, 1000).Select(i => i * -0.125f)];
            float[] v = [.. Enumerable.Range(0, 100).Select(i => i * 0.5f)];
            bool[] condition = [true];
            using OrtValue cond = OrtValue.CreateTensorValueFromMemory(condition, []);
            using OrtValue xValue = OrtValue.CreateTensorValueFromMemory(x, [1000]);
            using OrtValue vValue = OrtValue.CreateTensorValueFromMemory(v, [100]);
            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(run, ["cond", "x", "v"], [cond, xValue, vValue], ["y", "z"]);
            return [.. outputs[0].GetTensorDataAsSpan<float>(), .. outputs[1].GetTensorDataAsSpan<float>()];
        }
    }

    /// <summary>
    /// A sparse initializer 'W' (dense shape [8], four values at even positions) whose <paramref name="part"/>
    /// (values or indices) is in external data at <paramref name="location"/>, in the main graph or an If branch.
    /// </summary>
    private static ModelProto ModelWithExternalSparsePart(string part, string location, bool inSubgraph)
    {
        var sparse = new SparseTensorProto
        {
            Values = TensorData.CreateFloat("W", [4], [1f, 2f, 3f, 4f]),
            Indices = TensorData.CreateInt64(string.Empty, [4], [0, 2, 4, 6]),
            Dims = { 8 },
        };
        TensorProto external = part == "values" ? sparse.Values : sparse.Indices;
        external.ClearRawData();
        external.DataLocation = TensorProto.Types.DataLocation.External;
        external.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        external.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "0" });
        external.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = part == "values" ? "16" : "32" });

        var graph = new GraphProto { Name = "main" };
        if (!inSubgraph)
        {
            graph.SparseInitializer.Add(sparse);
            return Model(graph);
        }

        var thenBranch = new GraphProto { Name = "then" };
        thenBranch.SparseInitializer.Add(sparse);
        graph.Node.Add(new NodeProto
        {
            OpType = "If",
            Name = "branch",
            Input = { "cond" },
            Output = { "y" },
            Attribute =
            {
                new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch },
                new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = new GraphProto { Name = "else" } },
            },
        });
        return Model(graph);
    }

    /// <summary>The first output of the model on <see cref="Samples"/> shared test samples.</summary>
    private static float[] Outputs(Func<SessionOptions, InferenceSession> open, string name, GraphOptimizationLevel level)
    {
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath($"{PruningMaterial.DataPrefix(name)}_test_x.npy"));
        float[] data = MemoryMarshal.Cast<byte, float>(x.SampleBytes(0, Samples)).ToArray();
        using var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 1 };
        using InferenceSession session = open(options);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(data, [Samples, .. x.Shape.Skip(1)]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(run, [session.InputNames[0]], [input], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "sparse-external-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    private static ValueInfoProto FloatValue(string name, long length) => new() { Name = name, Type = TensorType(TensorProto.Types.DataType.Float, length) };

    private static TypeProto TensorType(TensorProto.Types.DataType type, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } };
    }
}
