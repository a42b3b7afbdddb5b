using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Passes;

/// <summary>A quantized Conv reading 1–3 channels is widened to 4 zero-padded channels (Qdq/InputChannelPadding).</summary>
public class StaticInputChannelPaddingTests
{
    private const int Filters = 16; // fewer outputs from 3 channels stay float (IntegerConvKernels.MinNarrowInputOutputChannels)
    private const int Size = 10;

    [TestCase(1)]
    [TestCase(2)]
    public void ConvReadingOneOrTwoChannelsStaysFloatWithTheReason(int channels)
    {
        ModelProto model = ConvModel(channels, out _);
        float[] x = TinyModels.RandomValues(2 * channels * Size * Size, 31);
        Dictionary<string, TensorRange> ranges = StaticQuantizationTests.Calibrate(model, x, [2, channels, Size, Size]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true, ActivationType = QuantType.QUInt8 });

        Assert.That(report.SkippedNodes.Single(n => n.OpType == "Conv").Reason, Does.StartWith($"Conv reading {channels} input channel(s)"));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.None.EqualTo("Pad").And.None.EqualTo("QuantizeLinear"), "nothing to pad or quantize");
    }

    [Test]
    public void ThreeChannelsIntoFewerThanSixteenOutputsStayFloat()
    {
        ModelProto model = ConvModel(3, out _, filters: 8);
        float[] x = TinyModels.RandomValues(2 * 3 * Size * Size, 31);

        PassReport report = StaticQuantization.Run(model, StaticQuantizationTests.Calibrate(model, x, [2, 3, Size, Size]), new StaticQuantizationOptions { PerChannel = true });

        Assert.That(report.SkippedNodes.Single(n => n.OpType == "Conv").Reason, Does.StartWith("Conv reading 3 input channels into 8 outputs"));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.None.EqualTo("Pad").And.None.EqualTo("QuantizeLinear"));
    }

    [TestCase(3)]
    public void NarrowConvInputIsPaddedToFourChannelsWithTheSameOutputs(int channels)
    {
        ModelProto model = ConvModel(channels, out float[] w);
        float[] x = TinyModels.RandomValues(2 * channels * Size * Size, 31);
        float[] expected = OrtRunner.Run(model, "X", x, [2, channels, Size, Size]);
        Dictionary<string, TensorRange> ranges = StaticQuantizationTests.Calibrate(model, x, [2, channels, Size, Size]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true, ActivationType = QuantType.QUInt8 });

        var graph = new ModelGraph(model);
        NodeProto pad = model.Graph.Node.Single(n => n.OpType == "Pad");
        Assert.That(pad.Input[0], Is.EqualTo("X"), "the float input is padded before its QuantizeLinear");
        Assert.That(TensorData.ReadInt64s(graph.Main.FindConstant(pad.Input[1])!.Value!), Is.EqualTo(new long[] { 0, 0, 0, 0, 0, 4 - channels, 0, 0 }));
        NodeProto quantize = model.Graph.Node.Single(n => n.OpType == "QuantizeLinear" && n.Input[0] == pad.Output[0]);
        Assert.That(quantize, Is.Not.Null);
        NodeProto conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        TensorProto weight = graph.Main.FindConstant(model.Graph.Node.Single(n => n.Output[0] == conv.Input[1]).Input[0])!.Value!;
        Assert.That(weight.Dims, Is.EqualTo(new long[] { Filters, 4, 3, 3 }));
        sbyte[] q = weight.RawData.ToByteArray().Select(b => unchecked((sbyte)b)).ToArray();
        for (int f = 0; f < Filters; f++)
        {
            Assert.That(q.Skip((f * 4 * 9) + (channels * 9)).Take((4 - channels) * 9), Is.All.Zero, $"filter {f}: padded channels weigh 0");
        }

        Assert.That(report.ParametersQuantized, Is.EqualTo(w.Length), "the padding is not counted as the model's weights");
        Assert.That(report.Notes, Has.Some.Contains("input channels padded to 4"));
        float[] actual = OrtRunner.Run(model, "X", x, [2, channels, Size, Size]);
        float tolerance = expected.Max(Math.Abs) * 0.03f;
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(tolerance), "int8 result within 3 % of the output range of fp32");
        StaticFusion.AssertAllFused(model, 1);
    }

    [Test]
    public void FourChannelInputIsLeftAlone()
    {
        ModelProto model = ConvModel(4, out _);
        float[] x = TinyModels.RandomValues(2 * 4 * Size * Size, 32);
        StaticQuantization.Run(model, StaticQuantizationTests.Calibrate(model, x, [2, 4, Size, Size]), new StaticQuantizationOptions());
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.No.Member("Pad"));
    }

    private static ModelProto ConvModel(int channels, out float[] w, int filters = Filters)
    {
        var graph = new GraphProto { Name = "narrow" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 2, channels, Size, Size) });
        w = TinyModels.RandomValues(filters * channels * 9, 33, 0.5f);
        graph.Initializer.Add(TensorData.CreateFloat("W", [filters, channels, 3, 3], w));
        graph.Initializer.Add(TensorData.CreateFloat("B", [filters], TinyModels.RandomValues(filters, 34, 0.3f)));
        NodeProto conv = TinyModels.Node("Conv", "conv", ["X", "W", "B"], ["Y"]);
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(conv);
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 2, filters, Size, Size) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
