using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Tests.Passes;

/// <summary>Channels flowing into a depthwise Conv are widened with zeros to a multiple of 16, so it runs in int8.</summary>
public class StaticDepthwisePaddingTests
{
    private const int Inputs = 8;
    private const int Channels = 24;
    private const int Outputs = 16;
    private const int Size = 10;

    [Test]
    public void ExpansionConvGetsZeroChannelsAndTheDepthwiseConvRunsInInt8()
    {
        ModelProto model = Model(residual: false);
        (float[] x, float[] expected, PassReport report) = Quantize(model);

        Assert.That(report.Notes, Has.One.EqualTo("expand: 24 -> 32 output channels (8 zero, 280 zero parameters) so that the depthwise Conv(s) depthwise run ONNX Runtime's int8 depthwise kernel"));
        Assert.That(report.SkippedNodes.Where(s => s.OpType == "Conv"), Is.Empty);
        Assert.That(ModelGraph.GetInt(model.Graph.Node.Single(n => n.Name == "depthwise"), "group", 1), Is.EqualTo(32));
        Assert.That(report.ParametersQuantized, Is.EqualTo((Channels * Inputs) + (Channels * 9) + (Outputs * Channels)), "the model's own weights, not the zeros");

        // ORT runs three QLinearConv; the outputs are those of the unpadded model up to int8 rounding.
        Dictionary<string, int> ops = StaticFusion.OptimizedOpCounts(model);
        Assert.That(ops.GetValueOrDefault("QLinearConv"), Is.EqualTo(3), string.Join(", ", ops.Select(p => $"{p.Key}={p.Value}")));
        Assert.That(ops.GetValueOrDefault("Conv") + ops.GetValueOrDefault("FusedConv"), Is.Zero);
        float[] actual = OrtRunner.Run(model, "X", x, [2, Inputs, Size, Size]);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.04 * expected.Max(Math.Abs)), "three int8 layers' error");
    }

    [TestCase(false, 1)]
    [TestCase(true, 0)]
    public void PerTensorDepthwiseWeightsAreNamedInTheReport(bool perChannel, int notes)
    {
        ModelProto model = Model(residual: false);
        float[] x = TinyModels.RandomValues(2 * Inputs * Size * Size, 91);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, Inputs, Size, Size]) }]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = perChannel });

        Assert.That(report.Notes.Count(n => n == "1 depthwise Conv(s) quantized with one weight scale per tensor; if accuracy suffers, per_channel: true usually recovers it"), Is.EqualTo(notes));
    }

    [Test]
    public void ChannelsThatMeetAResidualAddAreNotPaddedAndTheDepthwiseConvStaysFloat()
    {
        ModelProto model = Model(residual: true);

        (_, _, PassReport report) = Quantize(model);

        Assert.That(report.Notes, Has.None.Contains("int8 depthwise kernel"));
        Assert.That(report.SkippedNodes.Single(s => s.OpType == "Conv").Reason, Does.StartWith("depthwise Conv with 24 channels"));
        Assert.That(ModelGraph.GetInt(model.Graph.Node.Single(n => n.Name == "depthwise"), "group", 1), Is.EqualTo(Channels));
    }

    private static (float[] X, float[] Expected, PassReport Report) Quantize(ModelProto model)
    {
        float[] x = TinyModels.RandomValues(2 * Inputs * Size * Size, 91);
        float[] expected = OrtRunner.Run(model, "X", x, [2, Inputs, Size, Size]);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, Inputs, Size, Size]) }]);
        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true });
        return (x, expected, report);
    }

    /// <summary>
    /// Y = project(depthwise(Relu(expand(X)))) with X[N,8,10,10], expand 1x1 8→24 with bias, depthwise 3x3 over 24
    /// channels with bias, project 1x1 24→16; with <paramref name="residual"/> the expanded channels also meet a
    /// second 1x1 Conv's output in an Add, which structured tracing refuses.
    /// </summary>
    private static ModelProto Model(bool residual)
    {
        var graph = new GraphProto { Name = "block" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Inputs, Size, Size) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Outputs, Size, Size) });
        graph.Initializer.Add(TensorData.CreateFloat("We", [Channels, Inputs, 1, 1], TinyModels.RandomValues(Channels * Inputs, 92, 0.4f)));
        graph.Initializer.Add(TensorData.CreateFloat("Be", [Channels], TinyModels.RandomValues(Channels, 93, 0.1f)));
        graph.Initializer.Add(TensorData.CreateFloat("Wd", [Channels, 1, 3, 3], TinyModels.RandomValues(Channels * 9, 94, 0.4f)));
        graph.Initializer.Add(TensorData.CreateFloat("Bd", [Channels], TinyModels.RandomValues(Channels, 95, 0.1f)));
        graph.Initializer.Add(TensorData.CreateFloat("Wp", [Outputs, Channels, 1, 1], TinyModels.RandomValues(Outputs * Channels, 96, 0.3f)));
        graph.Node.Add(TinyModels.Node("Conv", "expand", ["X", "We", "Be"], ["e"]));
        string relu = "e";
        if (residual)
        {
            graph.Initializer.Add(TensorData.CreateFloat("Ws", [Channels, Inputs, 1, 1], TinyModels.RandomValues(Channels * Inputs, 97, 0.4f)));
            graph.Node.Add(TinyModels.Node("Conv", "shortcut", ["X", "Ws"], ["s"]));
            graph.Node.Add(TinyModels.Node("Add", "residual", ["e", "s"], ["sum"]));
            relu = "sum";
        }

        graph.Node.Add(TinyModels.Node("Relu", "relu", [relu], ["r"]));
        NodeProto depthwise = TinyModels.Node("Conv", "depthwise", ["r", "Wd", "Bd"], ["d"]);
        depthwise.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = Channels });
        depthwise.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(depthwise);
        graph.Node.Add(TinyModels.Node("Conv", "project", ["d", "Wp"], ["Y"]));
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
