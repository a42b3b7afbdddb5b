using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// Depthwise Conv: quantized only where ONNX Runtime's x86 int8 depthwise kernel is fast (channel
/// count a multiple of 16); otherwise left in float (measured 3-4x slower than fp32 on ocr-cls).
/// </summary>
public class StaticDepthwiseConvTests
{
    private const int Size = 8;

    [Test]
    public void DepthwiseConvWithSixteenChannelsIsQuantizedAndFusesIntoQLinearConv()
    {
        ModelProto model = DepthwiseModel(16);
        PassReport report = StaticQuantization.Run(model, Calibrate(model, 16), new StaticQuantizationOptions { PerChannel = true, ActivationType = Compress.Core.Spec.QuantType.QUInt8 });

        Assert.That(report.SkippedNodes, Is.Empty);
        NodeProto conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.That(model.Graph.Node.Single(n => n.Output.Contains(conv.Input[1])).OpType, Is.EqualTo("DequantizeLinear"), "int8 weight read through DequantizeLinear");
        Dictionary<string, int> ops = StaticFusion.OptimizedOpCounts(model);
        Assert.That(ops.GetValueOrDefault("QLinearConv"), Is.EqualTo(1), string.Join(", ", ops.Select(p => $"{p.Key}={p.Value}")));
        Assert.That(ops.GetValueOrDefault("Conv"), Is.Zero);
    }

    [TestCase(8)]
    [TestCase(24)]
    public void DepthwiseConvWithOtherChannelCountsStaysFloatWithReason(int channels)
    {
        ModelProto model = DepthwiseModel(channels);
        PassReport report = StaticQuantization.Run(model, Calibrate(model, channels), new StaticQuantizationOptions { PerChannel = true });

        SkippedNode skipped = report.SkippedNodes.Single(n => n.OpType == "Conv");
        Assert.That(skipped.Node, Is.EqualTo("dw"));
        Assert.That(skipped.Reason, Does.StartWith($"depthwise Conv with {channels} channels"));
        NodeProto conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.That(conv.Input[1], Is.EqualTo("W"), "float weight kept");
        Assert.That(model.Graph.Node.Count(n => n.OpType == "Relu"), Is.EqualTo(1), "Relu not folded: its producer is float");
    }

    [Test]
    public void OneDimensionalDepthwiseConvIsQuantizedWhateverItsChannelCount()
    {
        // ORT has no NCHWc float kernel for 1-D Convs: its float depthwise path (one GEMM per group) is slower than the
        // int8 loop (Silero's 258-channel kernel-5 Conv: 1.4 ms float), so the multiple-of-16 rule is for 2-D only.
        const int channels = 24, length = 32;
        var graph = new GraphProto { Name = "dw1d" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, channels, length) });
        graph.Initializer.Add(TensorData.CreateFloat("W", [channels, 1, 5], TinyModels.RandomValues(channels * 5, 34, 0.5f)));
        NodeProto conv = TinyModels.Node("Conv", "dw", ["X", "W"], ["Y"]);
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        conv.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = channels });
        graph.Node.Add(conv);
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, channels, length) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        float[] x = TinyModels.RandomValues(channels * length, 35);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [1, channels, length]) }]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true });

        Assert.That(report.SkippedNodes, Is.Empty);
        NodeProto quantized = model.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.That(model.Graph.Node.Single(n => n.Output.Contains(quantized.Input[1])).OpType, Is.EqualTo("DequantizeLinear"));
    }

    [Test]
    public void GroupedConvThatIsNotDepthwiseIsStillQuantized()
    {
        // group 2 over 8 input channels: 4 input channels per group, not a depthwise kernel.
        ModelProto model = ConvModel(channels: 8, group: 2, weightInputChannels: 4);
        PassReport report = StaticQuantization.Run(model, Calibrate(model, 8), new StaticQuantizationOptions { PerChannel = true });

        Assert.That(report.SkippedNodes, Is.Empty);
        Assert.That(model.Graph.Node.Count(n => n.OpType == "QuantizeLinear"), Is.GreaterThanOrEqualTo(2), "input and output quantized");
    }

    private static Dictionary<string, TensorRange> Calibrate(ModelProto model, int channels) =>
        StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])>
        {
            ["X"] = (TinyModels.RandomValues(channels * Size * Size, 31), [1, channels, Size, Size]),
        }]);

    private static ModelProto DepthwiseModel(int channels) => ConvModel(channels, group: channels, weightInputChannels: 1);

    /// <summary>Y = Relu(Conv(X[1,C,8,8], W[C,cin,3,3], B[C], group, pads 1)).</summary>
    private static ModelProto ConvModel(int channels, int group, int weightInputChannels)
    {
        var graph = new GraphProto { Name = "dw" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, channels, Size, Size) });
        graph.Initializer.Add(TensorData.CreateFloat("W", [channels, weightInputChannels, 3, 3], TinyModels.RandomValues(channels * weightInputChannels * 9, 32, 0.5f)));
        graph.Initializer.Add(TensorData.CreateFloat("B", [channels], TinyModels.RandomValues(channels, 33, 0.2f)));
        NodeProto conv = TinyModels.Node("Conv", "dw", ["X", "W", "B"], ["conv_out"]);
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        conv.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = group });
        graph.Node.Add(conv);
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["conv_out"], ["Y"]));
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, channels, Size, Size) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
