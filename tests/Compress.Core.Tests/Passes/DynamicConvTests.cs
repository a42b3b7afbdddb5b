// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

/// <summary>Dynamic quantization of Conv (DynamicQuantizeLinear → ConvInteger → Cast → Mul → Add) on hand-built models.</summary>
public class DynamicConvTests
{
    private static readonly DynamicQuantizationOptions ConvOnly = new() { OpTypesToQuantize = ["Conv"] };

    [TestCase(false, 1, QuantType.QInt8)]
    [TestCase(true, 1, QuantType.QInt8)]
    [TestCase(true, 2, QuantType.QInt8)]
    [TestCase(true, 8, QuantType.QInt8)]
    [TestCase(false, 1, QuantType.QUInt8)]
    [TestCase(false, 8, QuantType.QUInt8)]
    public void Conv2dVariantsStayWithinTheRoundingBound(bool perChannel, int group, QuantType type)
    {
        const int c = 8, m = 16;
        ModelProto model = DynamicConvModels.Conv(c, m, [3, 3], group, pads: [1, 0, 2, 1], strides: [2, 1], dilations: [1, 2]);
        float[] w = TensorData.ReadFloats(model.Graph.Initializer.Single(t => t.Name == "W"));
        long[] shape = [2, c, 11, 9];
        float[] x = TinyModels.RandomValues(2 * c * 11 * 9, 5, 2f);
        float[] expected = RunConv(model, x, shape);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { OpTypesToQuantize = ["Conv"], PerChannel = perChannel, WeightType = type });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "DynamicQuantizeLinear", "ConvInteger", "Cast", "Mul", "Mul", "Add" }));
        NodeProto convInteger = model.Graph.Node[1];
        Assert.That(convInteger.Attribute.Select(a => a.Name), Is.EquivalentTo(group == 1 ? new[] { "pads", "strides", "dilations" } : ["pads", "strides", "dilations", "group"]));
        TensorProto wq = Initializer(model, convInteger.Input[1]);
        TensorProto zeroPoint = Initializer(model, convInteger.Input[3]);
        TensorProto scale = Initializer(model, model.Graph.Node[3].Input[1]);
        Assert.That(wq.DataType, Is.EqualTo((int)TensorProto.Types.DataType.Uint8), "uint8 weights: ORT's u8s8 ConvInteger is ~10x slower");
        Assert.That(wq.Dims, Is.EqualTo(new long[] { m, c / group, 3, 3 }));
        Assert.That(zeroPoint.Dims, Is.Empty);
        Assert.That(scale.Dims, Is.EqualTo(perChannel ? new long[] { 1, m, 1, 1 } : []));
        bool symmetric = type == QuantType.QInt8 || perChannel;
        if (symmetric)
        {
            Assert.That(TensorData.ReadInt32s(zeroPoint), Is.EqualTo(new[] { 128 }), "symmetric int8 offset into uint8");
        }

        Assert.That(model.Graph.Initializer.Select(t => t.Name), Has.None.EqualTo("W"), "float weight removed");

        float[] actual = RunConv(model, x, shape);
        float[] bound = ErrorBound(x, w, m, TensorData.ReadFloats(scale));
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        int outputPerChannel = expected.Length / 2 / m;
        for (int i = 0; i < actual.Length; i++)
        {
            int channel = i / outputPerChannel % m;
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(bound[channel]), $"element {i}");
        }

        Assert.That(DynamicQuantizationTests.RelativeL2(actual, expected), Is.GreaterThan(0).And.LessThan(0.03));
    }

    [Test]
    public void Conv1dWithComputedBiasReshapesTheBias()
    {
        const int c = 4, m = 6;
        ModelProto model = DynamicConvModels.Conv(c, m, [5], pads: [2, 2]);
        TensorProto b = model.Graph.Initializer.Single(t => t.Name == "B");
        model.Graph.Initializer.Remove(b);
        model.Graph.Input.Add(new ValueInfoProto { Name = "B", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, m) });
        float[] x = TinyModels.RandomValues(3 * c * 20, 8, 1f);
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [3, c, 20]), ["B"] = (TensorData.ReadFloats(b), [m]) };
        float[] expected = DynamicConvModels.Run(model, inputs, "Y")[0];

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { OpTypesToQuantize = ["Conv"], PerChannel = true });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Does.Contain("Reshape").And.Contain("ConvInteger"));
        TensorProto scale = Initializer(model, model.Graph.Node.First(n => n.OpType == "Mul").Input[1]);
        Assert.That(scale.Dims, Is.EqualTo(new long[] { 1, m, 1 }));
        float[] actual = DynamicConvModels.Run(model, inputs, "Y")[0];
        Assert.That(DynamicQuantizationTests.RelativeL2(actual, expected), Is.GreaterThan(0).And.LessThan(0.02));
    }

    [Test]
    public void ConvIsOnlyQuantizedWhenListed()
    {
        ModelProto model = DynamicConvModels.Conv(4, 8, [3, 3]);
        byte[] before = model.ToByteArray();

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.SkippedNodes, Is.Empty, "unlisted Conv nodes are not reported one by one");
        Assert.That(report.Notes, Has.Some.StartsWith("no MatMul or Gemm node"));
        Assert.That(model.ToByteArray(), Is.EqualTo(before));
    }

    [Test]
    public void ConvTransposeIsSkippedWithTheReason()
    {
        ModelProto transposed = DynamicConvModels.Conv(4, 8, [3, 3], op: "ConvTranspose");

        PassReport transposedReport = DynamicQuantization.Run(transposed, new DynamicQuantizationOptions { OpTypesToQuantize = ["Conv", "ConvTranspose"] });

        Assert.That(transposedReport.SkippedNodes.Single().Reason, Does.StartWith("ConvTranspose has no integer form"));
        Assert.That(transposed.Graph.Node.Single().OpType, Is.EqualTo("ConvTranspose"));
    }

    [TestCase(9)]
    [TestCase(10)]
    public void ConvBelowOpset11IsUpgradedAndQuantizedAsAtOpset13(long opset)
    {
        ModelProto old = DynamicConvModels.Conv(4, 8, [3, 3], pads: [1, 1, 1, 1], opset: opset);
        ModelProto current = DynamicConvModels.Conv(4, 8, [3, 3], pads: [1, 1, 1, 1]);
        float[] x = TinyModels.RandomValues(2 * 4 * 6 * 6, 17);

        PassReport report = DynamicQuantization.Run(old, ConvOnly);
        DynamicQuantization.Run(current, ConvOnly);

        Assert.That(report.Notes, Has.Some.EqualTo($"upgraded ai.onnx opset {opset} -> 11 for ConvInteger's DynamicQuantizeLinear"));
        Assert.That(old.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(11));
        Assert.That((report.NodesQuantized, report.SkippedNodes.Count), Is.EqualTo((1, 0)));
        Assert.That(old.Graph.Node.Select(n => n.OpType), Does.Contain("ConvInteger"));
        Assert.That(RunConv(old, x, [2, 4, 6, 6]), Is.EqualTo(RunConv(current, x, [2, 4, 6, 6])), "the same integer computation as at opset 13");
    }

    [Test]
    public void ConvBelowOpset11ThatCannotBeUpgradedIsSkippedWithTheReason()
    {
        ModelProto opset10 = DynamicConvModels.Conv(4, 8, [3, 3], opset: 10);
        // An operator the upgrader does not know keeps the model at opset 10.
        opset10.Graph.Node.Add(TinyModels.Node("Unique", "unique", ["Y"], ["U"]));
        byte[] before = opset10.ToByteArray();

        PassReport report = DynamicQuantization.Run(opset10, ConvOnly);

        Assert.That(report.Notes, Has.Some.StartsWith("kept opset 10 (cannot upgrade to 11: Unique 'unique': operator not known to the opset upgrader)"));
        Assert.That(report.SkippedNodes.Single(), Is.EqualTo(new SkippedNode("conv", "Conv", "conv", "opset 10 < 11: DynamicQuantizeLinear is not available, Conv left float")));
        Assert.That(opset10.ToByteArray(), Is.EqualTo(before));
    }

    [Test]
    public void UnsupportedOpTypeIsNamedInANote()
    {
        PassReport report = DynamicQuantization.Run(DynamicConvModels.Conv(4, 8, [3, 3]), new DynamicQuantizationOptions { OpTypesToQuantize = ["Conv", "Attention"] });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.Notes, Has.Some.StartsWith("op type 'Attention' is not quantized by dynamic quantization"));
    }

    [Test]
    public void ConvInIfBranchUsingOuterWeightIsQuantizedWhereTheWeightLives()
    {
        ModelProto model = DynamicConvModels.Conv(4, 8, [3, 3], pads: [1, 1, 1, 1]);
        NodeProto conv = model.Graph.Node.Single();
        model.Graph.Node.Clear();
        var branch = new GraphProto { Name = "branch" };
        branch.Node.Add(conv);
        branch.Output.Add(model.Graph.Output[0].Clone());
        var other = new GraphProto { Name = "other" };
        other.Node.Add(TinyModels.Node("Identity", "pass", ["X"], ["Y2"]));
        other.Output.Add(new ValueInfoProto { Name = "Y2", Type = model.Graph.Output[0].Type });
        NodeProto ifNode = TinyModels.Node("If", "if", ["cond"], ["Out"]);
        ifNode.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = branch });
        ifNode.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = other });
        model.Graph.Node.Add(ifNode);
        model.Graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TinyModels.TensorType(TensorProto.Types.DataType.Bool) });
        model.Graph.Output[0] = new ValueInfoProto { Name = "Out", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float) };

        PassReport report = DynamicQuantization.Run(model, ConvOnly);

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(branch.Node.Select(n => n.OpType), Does.Contain("ConvInteger"));
        // The quantized weight, its zero point and the reshaped bias live in the outer graph, beside the float weight they replace.
        NodeProto convInteger = branch.Node.Single(n => n.OpType == "ConvInteger");
        var outer = model.Graph.Initializer.ToDictionary(t => t.Name);
        Assert.That(outer[convInteger.Input[1]].DataType, Is.EqualTo((int)TensorProto.Types.DataType.Uint8));
        Assert.That(outer[convInteger.Input[3]].DataType, Is.EqualTo((int)TensorProto.Types.DataType.Uint8));
        Assert.That(outer[branch.Node.Single(n => n.OpType == "Add").Input[1]].Dims, Is.EqualTo(new long[] { 1, 8, 1, 1 }));
        Assert.That(branch.Initializer, Is.Empty);
        Assert.That(outer.Keys, Has.None.EqualTo("W"));
    }

    private static float[] RunConv(ModelProto model, float[] x, long[] shape) =>
        DynamicConvModels.Run(model, new Dictionary<string, (float[], long[])> { ["X"] = (x, shape) }, "Y")[0];

    private static TensorProto Initializer(ModelProto model, string name) => model.Graph.Initializer.Single(t => t.Name == name);

    /// <summary>
    /// Worst-case |Y − Yq| per output channel m: each of the K = C/g·k… products of a window moves by
    /// at most |x|·s_w/2 + |w|·s_x/2 + s_x·s_w/4 (weight rounding at step s_w[m], activation rounding
    /// at s_x = (max(x,0) − min(x,0))/255); |x| ≤ max|x| bounds every window, padding adds zeros.
    /// </summary>
    private static float[] ErrorBound(float[] x, float[] w, int m, float[] scales)
    {
        float xAbs = x.Max(Math.Abs);
        float sx = (Math.Max(0f, x.Max()) - Math.Min(0f, x.Min())) / 255f;
        int k = w.Length / m;
        var bound = new float[m];
        for (int c = 0; c < m; c++)
        {
            float sw = scales.Length == 1 ? scales[0] : scales[c];
            double sum = 0;
            for (int i = 0; i < k; i++)
            {
                sum += (xAbs * sw / 2) + (Math.Abs(w[(c * k) + i]) * sx / 2) + (sx * sw / 4);
            }

            bound[c] = (float)(sum * 1.001) + 1e-5f;
        }

        return bound;
    }
}
