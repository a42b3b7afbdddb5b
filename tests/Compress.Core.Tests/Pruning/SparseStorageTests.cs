using System.Globalization;
using System.Runtime.InteropServices;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Pruning;

/// <summary>Weights stored as ONNX sparse initializers: smaller files that ONNX Runtime loads into the same dense weights.</summary>
public class SparseStorageTests
{
    private const int Samples = 200;

    [TestCase("digits-mlp", 0.85)]
    [TestCase("fashion-cnn", 0.85)]
    public void PrunedSharedModelIsSmallerSparseAndOrtGivesTheSameOutputs(string name, double sparsity)
    {
        ModelProto dense = SharedMaterial.LoadModel(name);
        MagnitudePruning.Run(dense, new MagnitudePruningOptions { Sparsity = sparsity, Scope = MagnitudePruningScope.PerLayer });
        ModelProto sparse = dense.Clone();

        SparseStorageSummary summary = SparseInitializerStorage.Store(sparse);

        byte[] denseBytes = OnnxModelFile.ToBytes(dense);
        byte[] sparseBytes = OnnxModelFile.ToBytes(sparse);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} {sparsity:P0} pruned: dense {denseBytes.Length} B, sparse {sparseBytes.Length} B ({sparseBytes.Length / (double)denseBytes.Length:P1}); {summary.Initializers} sparse initializers, {summary.BytesSaved} B saved"));
        int pruned = dense.Graph.Node.Count(n => n.OpType is "Gemm" or "MatMul" or "Conv");
        Assert.That(summary.Initializers, Is.EqualTo(pruned), "every pruned weight is stored sparse");
        Assert.That(sparse.Graph.SparseInitializer.Select(s => s.Values.Name), Is.EquivalentTo(dense.Graph.Node.Where(n => n.OpType is "Gemm" or "MatMul" or "Conv").Select(n => n.Input[1])));
        Assert.That(denseBytes.Length - sparseBytes.Length, Is.InRange(summary.BytesSaved, summary.BytesSaved + 4), "the enclosing length prefixes may shrink too");
        Assert.That(sparseBytes.Length, Is.LessThan(denseBytes.Length * 0.5), "85% zeros: values plus narrow indices take well under half");

        foreach (GraphOptimizationLevel level in new[] { GraphOptimizationLevel.ORT_DISABLE_ALL, GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            Assert.That(Outputs(sparse, name, level), Is.EqualTo(Outputs(dense, name, level)), $"bit-identical outputs at {level}");
        }
    }

    [Test]
    public void WeightsWithFewZerosAndUnprunedBiasesStayDense()
    {
        ModelProto unpruned = SharedMaterial.LoadModel("digits-mlp");
        Assert.That(SparseInitializerStorage.Store(unpruned).Initializers, Is.Zero, "a trained model has almost no exact zeros");
        Assert.That(unpruned.Graph.SparseInitializer, Is.Empty);

        ModelProto pruned = SharedMaterial.LoadModel("digits-mlp");
        MagnitudePruning.Run(pruned, new MagnitudePruningOptions { Sparsity = 0.85 });
        SparseInitializerStorage.Store(pruned);
        string[] biases = [.. pruned.Graph.Node.Where(n => n.OpType == "Gemm").Select(n => n.Input[2])];
        Assert.That(pruned.Graph.Initializer.Select(t => t.Name), Is.SupersetOf(biases), "biases are not pruned, so they stay dense");
    }

    [Test]
    public void LowSparsityStaysDenseWhereTheEncodingWouldNotBeSmaller()
    {
        // 30% zeros in a 200x200 float tensor: 28,000 values x (4 + 4 index bytes) > 160,000 dense bytes.
        ModelProto model = AddModel([200, 200], i => i % 10 < 3 ? 0f : 1 + i);
        Assert.That(SparseInitializerStorage.Store(model).Initializers, Is.Zero);
        Assert.That(model.Graph.Initializer.Single().Name, Is.EqualTo("W"));
    }

    [Test]
    public void RepeatedSavesGiveTheSameBytes()
    {
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.8 });
        ModelProto first = model.Clone();
        ModelProto second = model.Clone();

        SparseInitializerStorage.Store(first);
        SparseInitializerStorage.Store(second);

        Assert.That(OnnxModelFile.ToBytes(first), Is.EqualTo(OnnxModelFile.ToBytes(second)));
    }

    // int8 positions up to 127, int16 up to 32767, int32 beyond: ONNX Runtime reads each from raw data.
    [TestCase(new long[] { 100 }, TensorProto.Types.DataType.Int8)]
    [TestCase(new long[] { 10, 1000 }, TensorProto.Types.DataType.Int16)]
    [TestCase(new long[] { 200, 200 }, TensorProto.Types.DataType.Int32)]
    public void IndicesUseTheNarrowestWidthAndOrtRebuildsTheTensor(long[] dims, TensorProto.Types.DataType indexType)
    {
        ModelProto dense = AddModel(dims, i => i % 10 == 3 ? (i * 0.5f) + 1 : 0f);
        ModelProto sparse = dense.Clone();

        Assert.That(SparseInitializerStorage.Store(sparse).Initializers, Is.EqualTo(1));

        SparseTensorProto stored = sparse.Graph.SparseInitializer.Single();
        Assert.That(TensorData.TypeOf(stored.Indices), Is.EqualTo(indexType));
        Assert.That(stored.Dims, Is.EqualTo(dims));
        int count = (int)dims.Aggregate(1L, (a, b) => a * b);
        float[] x = [.. Enumerable.Range(0, count).Select(i => i * 0.25f)];
        Assert.That(OrtRunner.Run(sparse, "x", x, dims), Is.EqualTo(OrtRunner.Run(dense, "x", x, dims)));
    }

    [Test]
    public void DensifyRestoresTheExactBitsIncludingNegativeZero()
    {
        ModelProto model = AddModel([64, 64], i => i % 7 == 0 ? (i % 2 == 0 ? -0f : -1.5f * i) : 0f);
        byte[] before = model.Graph.Initializer.Single().ToByteArray();
        SparseInitializerStorage.Store(model);
        Assert.That(model.Graph.SparseInitializer, Has.Count.EqualTo(1), "negative zero is a stored value, the rest are zeros");

        Assert.That(SparseInitializerStorage.Densify(model), Is.EqualTo(1));

        Assert.That(model.Graph.SparseInitializer, Is.Empty);
        Assert.That(model.Graph.Initializer.Single().ToByteArray(), Is.EqualTo(before));
    }

    [Test]
    public void DensifyReadsCoordinateIndices()
    {
        // ONNX's other layout: int64 indices of shape [NNZ, rank].
        var sparse = new SparseTensorProto
        {
            Values = TensorData.CreateFloat("W", [3], [1f, 2f, 3f]),
            Indices = TensorData.CreateInt64(string.Empty, [3, 2], [0, 1, 1, 0, 2, 2]),
            Dims = { 3, 3 },
        };

        float[] dense = TensorData.ReadFloats(SparseInitializerStorage.ToDense(sparse));

        float[] expected = [0f, 1f, 0f, 2f, 0f, 0f, 0f, 0f, 3f];
        Assert.That(dense, Is.EqualTo(expected));
    }

    [Test]
    public void SubgraphInitializersAreStoredSparseAndOrtRunsTheBranch()
    {
        ModelProto dense = IfModel();
        ModelProto sparse = dense.Clone();

        Assert.That(SparseInitializerStorage.Store(sparse).Initializers, Is.EqualTo(1));

        GraphProto branch = sparse.Graph.Node.Single().Attribute.Single(a => a.Name == "then_branch").G;
        Assert.That(branch.SparseInitializer.Single().Values.Name, Is.EqualTo("W_then"));
        Assert.That(TensorData.TypeOf(branch.SparseInitializer.Single().Indices), Is.EqualTo(TensorProto.Types.DataType.Int64), "the ONNX checker ORT runs on subgraphs wants int64");
        Assert.That(RunIf(sparse), Is.EqualTo(RunIf(dense)));
    }

    [Test]
    public void Int8QuantizedPrunedWeightsAreStoredSparseAndOrtGivesTheSameOutputs()
    {
        ModelProto dense = SharedMaterial.LoadModel("digits-mlp");
        MagnitudePruning.Run(dense, new MagnitudePruningOptions { Sparsity = 0.9 });
        DynamicQuantization.Run(dense, new DynamicQuantizationOptions { OpTypesToQuantize = ["MatMul", "Gemm"] });
        ModelProto sparse = dense.Clone();

        SparseStorageSummary summary = SparseInitializerStorage.Store(sparse);

        TestContext.Out.WriteLine($"90% pruned int8: {summary.Initializers} sparse initializers, {summary.BytesSaved} B saved of {OnnxModelFile.ToBytes(dense).Length} B");
        Assert.That(sparse.Graph.SparseInitializer.Select(s => TensorData.TypeOf(s.Values)), Has.Some.EqualTo(TensorProto.Types.DataType.Int8));
        Assert.That(summary.BytesSaved, Is.Positive);
        Assert.That(Outputs(sparse, "digits-mlp", GraphOptimizationLevel.ORT_ENABLE_ALL), Is.EqualTo(Outputs(dense, "digits-mlp", GraphOptimizationLevel.ORT_ENABLE_ALL)));
    }

    /// <summary>The first output of the model on <see cref="Samples"/> test samples.</summary>
    private static float[] Outputs(ModelProto model, string name, GraphOptimizationLevel level)
    {
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath($"{PruningMaterial.DataPrefix(name)}_test_x.npy"));
        float[] data = MemoryMarshal.Cast<byte, float>(x.SampleBytes(0, Samples)).ToArray();
        using var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model.ToByteArray(), options);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(data, [Samples, .. x.Shape.Skip(1)]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(run, [session.InputNames[0]], [input], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>y = x + W with W's values from <paramref name="value"/> by linear position.</summary>
    private static ModelProto AddModel(long[] dims, Func<int, float> value)
    {
        int count = (int)dims.Aggregate(1L, (a, b) => a * b);
        var graph = new GraphProto { Name = "add" };
        graph.Initializer.Add(TensorData.CreateFloat("W", dims, [.. Enumerable.Range(0, count).Select(value)]));
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "W" }, Output = { "y" } });
        graph.Input.Add(FloatValue("x", dims));
        graph.Output.Add(FloatValue("y", dims));
        return Model(graph);
    }

    /// <summary>y = cond ? x + W_then : x, with a mostly-zero W_then inside the then-branch.</summary>
    private static ModelProto IfModel()
    {
        const int n = 1000;
        var thenBranch = new GraphProto { Name = "then" };
        thenBranch.Initializer.Add(TensorData.CreateFloat("W_then", [n], [.. Enumerable.Range(0, n).Select(i => i % 20 == 0 ? i + 0.5f : 0f)]));
        thenBranch.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "W_then" }, Output = { "then_out" } });
        thenBranch.Output.Add(FloatValue("then_out", [n]));
        var elseBranch = new GraphProto { Name = "else" };
        elseBranch.Node.Add(new NodeProto { OpType = "Identity", Input = { "x" }, Output = { "else_out" } });
        elseBranch.Output.Add(FloatValue("else_out", [n]));
        var graph = new GraphProto { Name = "main" };
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
        graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TensorType(TensorProto.Types.DataType.Bool, []) });
        graph.Input.Add(FloatValue("x", [n]));
        graph.Output.Add(FloatValue("y", [n]));
        return Model(graph);
    }

    private static float[] RunIf(ModelProto model)
    {
        float[] x = [.. Enumerable.Range(0, 1000).Select(i => i * -0.125f)];
        using var session = new InferenceSession(model.ToByteArray());
        bool[] condition = [true];
        using OrtValue cond = OrtValue.CreateTensorValueFromMemory(condition, []);
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(x, [1000]);
        using var run = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(run, ["cond", "x"], [cond, input], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "sparse-storage-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    private static ValueInfoProto FloatValue(string name, long[] dims) => new() { Name = name, Type = TensorType(TensorProto.Types.DataType.Float, dims) };

    private static TypeProto TensorType(TensorProto.Types.DataType type, long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } };
    }
}
