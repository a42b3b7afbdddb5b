using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OrtFloat16 = Microsoft.ML.OnnxRuntime.Float16;

namespace Compress.Core.Tests.Passes;

/// <summary>Float16 conversion on hand-built models.</summary>
public class Float16ConversionTests
{
    private const float Min = Float16ConversionOptions.SmallestPositiveFloat16;
    private const float Max = Float16ConversionOptions.LargestFiniteFloat16;

    [Test]
    public void ValuesOutsideTheFloat16RangeClampAsTheReference()
    {
        float[] values = [0f, -0f, 1e-9f, -1e-9f, 5.96e-08f, 1e-6f, 1.5f, -2.25f, 65504f, 65519f, 1e5f, -1e5f, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        TensorProto tensor = TensorData.CreateFloat("t", [values.Length], values);

        TensorProto half = Float16ConversionValues.ToFloat16Tensor(tensor, Min, Max, out int clamped);

        Assert.That((TensorProto.Types.DataType)half.DataType, Is.EqualTo(TensorProto.Types.DataType.Float16));
        Assert.That(half.Dims, Is.EqualTo(new long[] { values.Length }));
        float[] back = TensorData.ReadFloats(half);
        float tiny = (float)BitConverter.UInt16BitsToHalf(1); // 2^-24, the smallest positive float16
        Assert.That(back[..4], Is.EqualTo(new[] { 0f, -0f, tiny, -tiny }), "non-zero values below min_positive_val become ±min_positive_val, zero stays zero");
        Assert.That(float.IsNegative(back[1]), Is.True, "-0 keeps its sign");
        Assert.That(back[4], Is.EqualTo(tiny), "5.96e-08 itself rounds to 2^-24");
        Assert.That(back[5], Is.EqualTo((float)(Half)1e-6f), "subnormal float16 values are kept (not flushed)");
        Assert.That(back[6..9], Is.EqualTo(new[] { 1.5f, -2.25f, 65504f }));
        Assert.That(back[9], Is.EqualTo(65504f), "65519 is finite in float32 and above max_finite_val: clamped, not rounded to infinity");
        Assert.That(back[10..12], Is.EqualTo(new[] { 65504f, -65504f }));
        Assert.That(back[12..14], Is.EqualTo(new[] { float.PositiveInfinity, float.NegativeInfinity }), "infinities are unchanged");
        Assert.That(float.IsNaN(back[14]), Is.True, "NaN is unchanged");
        Assert.That(clamped, Is.EqualTo(5), "1e-9, -1e-9, 65519, 1e5, -1e5");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void OverflowingConstantsClampOrKeepTheirConsumerInFloat32(bool keepOverflowing)
    {
        // Y = Relu(X + C), C holds 1e5 (beyond float16) and 1e-9 (below its smallest positive value).
        ModelProto model = AddReluModel([1e5f, 1e-9f, 0.5f, -1e5f]);

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepOverflowingConstantsInFloat32 = keepOverflowing });

        TensorProto c = model.Graph.Initializer.Single();
        if (keepOverflowing)
        {
            Assert.That(report.SkippedNodes.Single(), Is.EqualTo(new SkippedNode("add", "Add", "tiny", "constant 'C' has values beyond ±65504: kept in float32")));
            Assert.That((TensorProto.Types.DataType)c.DataType, Is.EqualTo(TensorProto.Types.DataType.Float), "only the float32 Add reads C");
            Assert.That(TensorData.ReadFloats(c), Is.EqualTo(new[] { 1e5f, 1e-9f, 0.5f, -1e5f }));
        }
        else
        {
            Assert.That(report.SkippedNodes, Is.Empty);
            Assert.That(TensorData.ReadFloats(c), Is.EqualTo(new[] { 65504f, (float)BitConverter.UInt16BitsToHalf(1), 0.5f, -65504f }));
            Assert.That(report.Notes, Does.Contain("3 constant value(s) outside the float16 range clamped to ±5.96E-08 / ±65504"));
        }

        float[] y = RunHalf(model, [1f, 2f, 3f, 4f], [1, 4]);
        Assert.That(y[1..], Is.EqualTo(new List<float> { 2f, 3.5f, 0f }).Within(1e-3f));
        Assert.That(
            y[0],
            keepOverflowing ? Is.EqualTo(float.PositiveInfinity) : Is.EqualTo(65504f),
            "1 + 1e5 computed in float32 overflows the Cast back to float16; with C clamped, 1 + 65504 rounds to 65504");
    }

    [TestCase(false)]
    [TestCase(true)]
    public void BlockedOpRunsInFloat32BetweenCastsAndCastToFloatFollows(bool keepIoTypes)
    {
        // Y = Cast<float>(Relu(Max(X, C))): Max is in the default op_block_list.
        float[] c = [0.25f, -1f, 3f, 0.125f];
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.ValueInfo.Add(new ValueInfoProto { Name = "M", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.Initializer.Add(TensorData.CreateFloat("C", [4], c));
        graph.Node.Add(TinyModels.Node("Max", "max", ["X", "C"], ["M"]));
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["M"], ["R"]));
        NodeProto cast = TinyModels.Node("Cast", "cast", ["R"], ["Y"]);
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(cast);
        ModelProto model = Model(graph);
        float[] x = [1f, -2f, 2.5f, -0.5f];

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepIoTypes = keepIoTypes });

        Assert.That(report.SkippedNodes.Single(), Is.EqualTo(new SkippedNode("max", "Max", "tiny", "op type in op_block_list: kept in float32")));
        Assert.That(report.NodesQuantized, Is.EqualTo(2), "Relu and Cast compute in float16");
        Assert.That((TensorProto.Types.DataType)model.Graph.Initializer.Single().DataType, Is.EqualTo(TensorProto.Types.DataType.Float), "C is read only by the float32 Max");
        Assert.That(model.Graph.Node.Single(n => n.Name == "cast").Attribute.Single().I, Is.EqualTo(10), "Cast to float becomes Cast to float16");
        NodeProto max = model.Graph.Node.Single(n => n.Name == "max");
        Assert.That(max.Output.Single(), Is.EqualTo("M"));
        Assert.That(model.Graph.ValueInfo.Single(v => v.Name == "M").Type.TensorType.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Float), "Max still writes float32 M");
        NodeProto relu = model.Graph.Node.Single(n => n.Name == "relu");
        NodeProto toHalf = model.Graph.Node.Single(n => n.Output.Contains(relu.Input[0]));
        Assert.That((toHalf.OpType, toHalf.Input.Single(), toHalf.Attribute.Single().I), Is.EqualTo(("Cast", "M", 10L)), "Relu reads M cast to float16");
        // keep_io_types: X is already float32 for Max; otherwise X (float16) is cast to float32 for it.
        Assert.That(max.Input[0], keepIoTypes ? Is.EqualTo("X") : Is.Not.EqualTo("X"));
        // Two casts either way: X→float32 for Max and Max→float16 (float16 I/O), or Max→float16 and
        // the output Cast back to float32 (keep_io_types, where X needs no cast for Max).
        Assert.That(report.Notes, Does.Contain("2 Cast node(s) inserted"));

        float[] y = keepIoTypes ? RunFloat(model, x, [1, 4]) : RunHalf(model, x, [1, 4]);
        float[] expected = x.Zip(c).Select(p => Math.Max(0f, Math.Max(p.First, p.Second))).ToArray();
        Assert.That(y, Is.EqualTo(expected).Within(1e-3f));
    }

    [Test]
    public void NodeBlockListGlobKeepsMatchingNodesInFloat32()
    {
        ModelProto model = AddReluModel([0.5f, 1f, -1f, 2f]);

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { NodeBlockList = ["re*"], KeepIoTypes = true });

        Assert.That(report.SkippedNodes.Single(), Is.EqualTo(new SkippedNode("relu", "Relu", "tiny", "matches node_block_list 're*': kept in float32")));
        float[] y = RunFloat(model, [1f, 2f, 3f, 4f], [1, 4]);
        Assert.That(y, Is.EqualTo(new List<float> { 1.5f, 3f, 2f, 6f }).Within(1e-3f));
    }

    [Test]
    public void IfBranchesWithOuterAndLocalWeightsConvertAndRun()
    {
        ModelProto model = TinyModels.MatMulInIf();
        float[] x = TinyModels.RandomValues(2 * TinyModels.K, 71);
        float[] expectedThen = RunIf(model, x, true);
        float[] expectedElse = RunIf(model, x, false);

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepIoTypes = true });

        Assert.That((report.WeightsQuantized, report.SkippedNodes.Count), Is.EqualTo((2, 0)));
        GraphProto elseBranch = model.Graph.Node.Single(n => n.OpType == "If").Attribute.Single(a => a.Name == "else_branch").G;
        Assert.That((TensorProto.Types.DataType)elseBranch.Initializer.Single().DataType, Is.EqualTo(TensorProto.Types.DataType.Float16));
        Assert.That(elseBranch.Output.Single().Type.TensorType.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Float16));

        // float16 weights and activations: each of the K = 24 products carries ~2^-11 relative error.
        float[] actualThen = RunIf(model, x, true);
        float[] actualElse = RunIf(model, x, false);
        Assert.That(actualThen, Is.EqualTo(expectedThen).Within(0.02f));
        Assert.That(actualElse, Is.EqualTo(expectedElse).Within(0.02f));
    }

    private static ModelProto AddReluModel(float[] c)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", 4) });
        graph.Initializer.Add(TensorData.CreateFloat("C", [4], c));
        graph.Node.Add(TinyModels.Node("Add", "add", ["X", "C"], ["S"]));
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["S"], ["Y"]));
        return Model(graph);
    }

    private static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    private static float[] RunFloat(ModelProto model, float[] x, long[] shape) => OrtRunner.Run(model, "X", x, shape);

    private static float[] RunHalf(ModelProto model, float[] x, long[] shape)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        using var input = OrtValue.CreateTensorValueFromMemory(x.Select(v => (OrtFloat16)v).ToArray(), shape);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["X"], [input], ["Y"]);
        return WeightOnlyAndFloat16Evaluation.ReadFloats(outputs[0]);
    }

    private static float[] RunIf(ModelProto model, float[] x, bool condition)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [2, TinyModels.K]);
        using var cond = OrtValue.CreateTensorValueFromMemory(new[] { condition }, []);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["X", "cond"], [input, cond], ["Y"]);
        return WeightOnlyAndFloat16Evaluation.ReadFloats(outputs[0]);
    }
}
