using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Passes.Qdq;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Passes;

/// <summary>Static QDQ / QOperator quantization of hand-built Conv, MatMul and Gemm models.</summary>
public class StaticQuantizationTests
{
    private const int Channels = 4; // 1–3 channels would be padded to 4 (StaticInputChannelPaddingTests)
    private const int Filters = 4;
    private const int Size = 8;

    [Test]
    public void ComputeScaleZeroPointMatchesOrtFormula()
    {
        // Asymmetric int8 [-1,3]: scale 4/255, zero point round(-128 + 1/(4/255)) = round(-64.25) = -64.
        QuantParameters asym = QuantParameters.Compute(-1f, 3f, QuantType.QInt8, false, false, null);
        Assert.That(asym.Scale, Is.EqualTo(4f / 255f).Within(1e-9f));
        Assert.That(asym.ZeroPoint, Is.EqualTo(-64));

        // Symmetric int8 uses [-127,127]: scale 3/127, zero point 0; uint8 symmetric puts it at 128.
        Assert.That(QuantParameters.Compute(-1f, 3f, QuantType.QInt8, true, false, null), Is.EqualTo(new QuantParameters(3f / 127f, 0, QuantType.QInt8)));
        Assert.That(QuantParameters.Compute(-1f, 3f, QuantType.QUInt8, true, false, null).ZeroPoint, Is.EqualTo(128));

        // A range that excludes 0 is widened to include it; MinimumRealRange widens a tiny range.
        Assert.That(QuantParameters.Compute(2f, 5f, QuantType.QUInt8, false, false, null), Is.EqualTo(new QuantParameters(5f / 255f, 0, QuantType.QUInt8)));
        Assert.That(QuantParameters.Compute(0f, 1e-6f, QuantType.QUInt8, false, false, 0.01f).Scale, Is.EqualTo(0.01f / 255f).Within(1e-12f));
        Assert.That(QuantParameters.Compute(0f, 0f, QuantType.QInt8, false, false, null), Is.EqualTo(new QuantParameters(1f, 0, QuantType.QInt8)));
    }

    [Test]
    public void ConvPerChannelHasInt8WeightsInt32BiasFoldedReluAndFuses()
    {
        ModelProto model = ConvModel(out float[] w, out float[] b);
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 11);
        float[] expected = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);
        Dictionary<string, TensorRange> ranges = Calibrate(model, x);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true });

        Assert.That(report.NodesQuantized, Is.EqualTo(2), "Conv + folded Relu");
        Assert.That(report.WeightsQuantized, Is.EqualTo(1));
        Assert.That(report.ParametersQuantized, Is.EqualTo(w.Length));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.No.Member("Relu"));
        Assert.That(model.Graph.Initializer.Select(t => t.Name), Has.No.Member("W").And.No.Member("B"), "float weight and bias removed");

        NodeProto conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        NodeProto weightDq = Producer(model, conv.Input[1]);
        Assert.That(weightDq.OpType, Is.EqualTo("DequantizeLinear"));
        Assert.That(weightDq.Attribute.Single(a => a.Name == "axis").I, Is.EqualTo(0));
        TensorProto wq = Initializer(model, weightDq.Input[0]);
        TensorProto ws = Initializer(model, weightDq.Input[1]);
        TensorProto wz = Initializer(model, weightDq.Input[2]);
        Assert.That((TensorProto.Types.DataType)wq.DataType, Is.EqualTo(TensorProto.Types.DataType.Int8));
        Assert.That(wq.Dims, Is.EqualTo(new long[] { Filters, Channels, 3, 3 }));
        Assert.That((TensorProto.Types.DataType)ws.DataType, Is.EqualTo(TensorProto.Types.DataType.Float));
        Assert.That(ws.Dims, Is.EqualTo(new long[] { Filters }));
        Assert.That((TensorProto.Types.DataType)wz.DataType, Is.EqualTo(TensorProto.Types.DataType.Int8));
        Assert.That(wz.Dims, Is.EqualTo(new long[] { Filters }));
        float[] wScales = TensorData.ReadFloats(ws);
        int perFilter = Channels * 9;
        for (int f = 0; f < Filters; f++)
        {
            float absMax = w.Skip(f * perFilter).Take(perFilter).Max(Math.Abs);
            Assert.That(wScales[f], Is.EqualTo(absMax / 127f).Within(1e-7f), $"filter {f}");
        }

        // Input quantization parameters: scalar float scale, scalar int8 zero point.
        NodeProto inputDq = Producer(model, conv.Input[0]);
        TensorProto xs = Initializer(model, inputDq.Input[1]);
        TensorProto xz = Initializer(model, inputDq.Input[2]);
        Assert.That(xs.Dims, Is.Empty);
        Assert.That((TensorProto.Types.DataType)xz.DataType, Is.EqualTo(TensorProto.Types.DataType.Int8));
        float xScale = TensorData.ReadFloats(xs)[0];

        NodeProto biasDq = Producer(model, conv.Input[2]);
        TensorProto bq = Initializer(model, biasDq.Input[0]);
        Assert.That((TensorProto.Types.DataType)bq.DataType, Is.EqualTo(TensorProto.Types.DataType.Int32));
        Assert.That(biasDq.Input, Has.Count.EqualTo(2), "the bias zero point is DequantizeLinear's default 0, not written");
        int[] biasValues = TensorData.ReadInt32s(bq);
        float[] biasScales = TensorData.ReadFloats(Initializer(model, biasDq.Input[1]));
        for (int f = 0; f < Filters; f++)
        {
            Assert.That(biasScales[f], Is.EqualTo(xScale * wScales[f]));
            Assert.That(biasValues[f], Is.EqualTo((int)Math.Round(b[f] / (xScale * wScales[f]), MidpointRounding.ToEven)), $"bias {f}");
        }

        // The output Y keeps its name: produced by the DequantizeLinear of the folded Relu's range.
        Assert.That(Producer(model, "Y").OpType, Is.EqualTo("DequantizeLinear"));
        float yScale = TensorData.ReadFloats(Initializer(model, Producer(model, "Y").Input[1]))[0];
        float[] actual = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);

        // Per element: rounding x (sx/2) and w (sw/2) over the 27 products, bias rounding, output step.
        float xMax = x.Max(Math.Abs);
        for (int i = 0; i < actual.Length; i++)
        {
            int f = i / (Size * Size);
            float wMax = w.Skip(f * perFilter).Take(perFilter).Max(Math.Abs);
            float sw = wScales[f];
            float bound = (perFilter * ((xMax * sw / 2) + (wMax * xScale / 2) + (xScale * sw / 4))) + (xScale * sw / 2) + yScale + 1e-5f;
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(bound), $"element {i}");
        }

        StaticFusion.AssertAllFused(model, 1);
        Assert.That(StaticFusion.OptimizedOpCounts(model).GetValueOrDefault("QLinearConv"), Is.EqualTo(1));
    }

    [TestCase(QuantType.QInt8)]
    [TestCase(QuantType.QUInt8)]
    public void MatMulWithBiasAddIsQuantizedPerTensorAndFuses(QuantType activationType)
    {
        ModelProto model = MatMulAddModel();
        float[] x = TinyModels.RandomValues(4 * TinyModels.K, 12);
        float[] expected = OrtRunner.Run(model, "X", x, [4, TinyModels.K]);
        Dictionary<string, TensorRange> ranges = Calibrate(model, x, [4, TinyModels.K]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { ActivationType = activationType });

        Assert.That(report.NodesQuantized, Is.EqualTo(2), "MatMul and Add");
        Assert.That(report.WeightsQuantized, Is.EqualTo(2), "W and the Add's constant operand");
        NodeProto matMul = model.Graph.Node.Single(n => n.OpType == "MatMul");
        NodeProto weightDq = Producer(model, matMul.Input[1]);
        Assert.That(weightDq.Attribute.Any(a => a.Name == "axis"), Is.False);
        Assert.That(Initializer(model, weightDq.Input[1]).Dims, Is.Empty, "per-tensor scale is a scalar");
        TensorProto zeroPoint = Initializer(model, weightDq.Input[2]);
        Assert.That((TensorProto.Types.DataType)zeroPoint.DataType, Is.EqualTo(TensorProto.Types.DataType.Int8));
        Assert.That(zeroPoint.RawData.ToByteArray(), Is.EqualTo(new byte[] { 0 }), "symmetric int8 weights: zero point 0");

        // The MatMul output is quantized (Q → DQ) before the Add: the fusable form.
        NodeProto add = model.Graph.Node.Single(n => n.OpType == "Add");
        Assert.That(Producer(model, add.Input[0]).OpType, Is.EqualTo("DequantizeLinear"));
        float[] actual = OrtRunner.Run(model, "X", x, [4, TinyModels.K]);
        float yScale = TensorData.ReadFloats(Initializer(model, Producer(model, "Y").Input[1]))[0];
        float mmScale = TensorData.ReadFloats(Initializer(model, Producer(model, add.Input[0]).Input[1]))[0];
        float xScale = TensorData.ReadFloats(Initializer(model, Producer(model, matMul.Input[0]).Input[1]))[0];
        float wScale = TensorData.ReadFloats(Initializer(model, weightDq.Input[1]))[0];
        float bScale = TensorData.ReadFloats(Initializer(model, Producer(model, add.Input[1]).Input[1]))[0];
        float bound = (TinyModels.K * ((1f * wScale / 2) + (1f * xScale / 2) + (xScale * wScale / 4))) + mmScale + bScale + yScale;
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThanOrEqualTo(bound));
        Dictionary<string, int> ops = StaticFusion.OptimizedOpCounts(model);
        Assert.That(ops.GetValueOrDefault("QLinearMatMul"), Is.EqualTo(1), string.Join(",", ops.Keys));
        Assert.That(ops.ContainsKey("MatMul"), Is.False);

        // ORT turns int8 activation Q/DQ pairs into uint8 on x86 but not the constant operand's
        // DequantizeLinear, so QLinearAdd (equal input types) forms only with uint8 activations.
        if (activationType == QuantType.QUInt8)
        {
            Assert.That(ops.GetValueOrDefault("QLinearAdd"), Is.EqualTo(1), string.Join(",", ops.Keys));
            Assert.That(ops.ContainsKey("Add"), Is.False);
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public void GemmTransBGetsAxisZeroAndFusesToQGemm(bool perChannel)
    {
        ModelProto model = TinyModels.Gemm(1f, 1f, true, [TinyModels.N]);
        float[] x = TinyModels.RandomValues(4 * TinyModels.K, 13);
        float[] expected = OrtRunner.Run(model, "X", x, [4, TinyModels.K]);
        Dictionary<string, TensorRange> ranges = Calibrate(model, x, [4, TinyModels.K]);

        StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = perChannel });

        NodeProto gemm = model.Graph.Node.Single(n => n.OpType == "Gemm");
        NodeProto weightDq = Producer(model, gemm.Input[1]);
        Assert.That(weightDq.Attribute.FirstOrDefault(a => a.Name == "axis")?.I, Is.EqualTo(perChannel ? 0 : (long?)null));
        Assert.That(Initializer(model, weightDq.Input[1]).Dims, Is.EqualTo(perChannel ? new long[] { TinyModels.N } : []));
        TensorProto bias = Initializer(model, Producer(model, gemm.Input[2]).Input[0]);
        Assert.That((TensorProto.Types.DataType)bias.DataType, Is.EqualTo(TensorProto.Types.DataType.Int32));
        // The model output Y comes straight from the Gemm: ORT's QGemm writes float, no Q/DQ clips it.
        Assert.That(Producer(model, "Y"), Is.SameAs(gemm));
        float[] actual = OrtRunner.Run(model, "X", x, [4, TinyModels.K]);
        float step = (expected.Max() - Math.Min(expected.Min(), 0f)) / 255f;
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThanOrEqualTo(4 * step), "within 4 uint8 steps of the output range");
        StaticFusion.AssertAllFused(model, 1);
    }

    [Test]
    public void QOperatorFormatWritesQLinearConvAndQLinearMatMul()
    {
        ModelProto model = ConvThenMatMulModel();
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 14);
        float[] expected = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);
        Dictionary<string, TensorRange> ranges = Calibrate(model, x);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { QuantFormat = StaticQuantFormat.QOperator, PerChannel = true });

        string[] ops = model.Graph.Node.Select(n => n.OpType).ToArray();
        Assert.That(ops, Has.Exactly(1).EqualTo("QLinearConv").And.Exactly(1).EqualTo("QLinearMatMul"), string.Join(",", ops));
        Assert.That(ops, Has.No.Member("Conv").And.No.Member("MatMul").And.No.Member("Relu"));
        Assert.That(Producer(model, model.Graph.Node.Single(n => n.OpType == "Reshape").Input[0]).OpType, Is.EqualTo("QLinearConv"), "Reshape runs on the int8 tensor");
        Assert.That(report.Notes, Has.Some.StartsWith("QOperator: "));
        float[] actual = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);
        float yScale = TensorData.ReadFloats(Initializer(model, Producer(model, "Y").Input[1]))[0];
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThanOrEqualTo(6 * yScale));
    }

    [Test]
    public void NodesToExcludeAndMissingRangesLeaveNodesInFloat()
    {
        ModelProto model = ConvThenMatMulModel();
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 15);
        Dictionary<string, TensorRange> ranges = Calibrate(model, x);
        ranges.Remove("Y");

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { NodesToExclude = ["co*"] });

        Assert.That(report.SkippedNodes, Has.Some.EqualTo(new SkippedNode("conv", "Conv", "tiny", "excluded by nodes_to_exclude 'co*'")));
        Assert.That(report.SkippedNodes, Has.Some.EqualTo(new SkippedNode("mm", "MatMul", "tiny", "no calibration range for 'Y'")));
        NodeProto conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.That(conv.Input[1], Is.EqualTo("W"), "excluded Conv keeps its float weight");
        Assert.That(model.Graph.Node.Single(n => n.OpType == "MatMul").Input[1], Is.EqualTo("W2"));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.Member("Relu"));
        Assert.That(OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]), Has.Length.EqualTo(5));
    }

    internal static Dictionary<string, TensorRange> Calibrate(ModelProto model, float[] x, long[]? shape = null) =>
        StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, shape ?? [1, Channels, Size, Size]) }]);

    private static NodeProto Producer(ModelProto model, string name) => model.Graph.Node.Single(n => n.Output.Contains(name));

    private static TensorProto Initializer(ModelProto model, string name) => model.Graph.Initializer.Single(t => t.Name == name);

    /// <summary>Y = Relu(Conv(X[1,3,8,8], W[4,3,3,3], B[4]), pads 1).</summary>
    private static ModelProto ConvModel(out float[] w, out float[] b)
    {
        GraphProto graph = ConvGraph(out w, out b);
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["conv_out"], ["Y"]));
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Filters, Size, Size) });
        return Model(graph);
    }

    /// <summary>Y = MatMul(Reshape(Relu(Conv(X))), W2[256,5]).</summary>
    private static ModelProto ConvThenMatMulModel()
    {
        GraphProto graph = ConvGraph(out _, out _);
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["conv_out"], ["relu_out"]));
        graph.Initializer.Add(TensorData.CreateInt64("shape", [2], [1, Filters * Size * Size]));
        graph.Node.Add(TinyModels.Node("Reshape", "reshape", ["relu_out", "shape"], ["flat"]));
        graph.Initializer.Add(TensorData.CreateFloat("W2", [Filters * Size * Size, 5], TinyModels.RandomValues(Filters * Size * Size * 5, 22, 0.1f)));
        graph.Node.Add(TinyModels.Node("MatMul", "mm", ["flat", "W2"], ["Y"]));
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, 5) });
        return Model(graph);
    }

    private static GraphProto ConvGraph(out float[] w, out float[] b)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        w = TinyModels.RandomValues(Filters * Channels * 9, 21, 0.5f);
        for (int i = 0; i < 9 * Channels; i++)
        {
            w[i] *= 0.1f; // filter 0 has a much smaller range than the others: per-channel matters.
        }

        b = TinyModels.RandomValues(Filters, 23, 0.3f);
        graph.Initializer.Add(TensorData.CreateFloat("W", [Filters, Channels, 3, 3], w));
        graph.Initializer.Add(TensorData.CreateFloat("B", [Filters], b));
        NodeProto conv = TinyModels.Node("Conv", "conv", ["X", "W", "B"], ["conv_out"]);
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(conv);
        return graph;
    }

    /// <summary>Y = MatMul(X[batch,K], W[K,N]) + b[N].</summary>
    private static ModelProto MatMulAddModel()
    {
        ModelProto model = TinyModels.MatMul();
        model.Graph.Node[0].Output[0] = "mm_out";
        model.Graph.Initializer.Add(TensorData.CreateFloat("b", [TinyModels.N], TinyModels.RandomValues(TinyModels.N, 24)));
        model.Graph.Node.Add(TinyModels.Node("Add", "add", ["mm_out", "b"], ["Y"]));
        return model;
    }

    private static ModelProto Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
