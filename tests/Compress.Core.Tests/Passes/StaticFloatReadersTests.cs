using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// Nodes left in float read the float tensor, not a DequantizeLinear of it, where that matters: a float Conv
/// (else ONNX Runtime's WeightBiasQuantization quantizes it again) and any float reader of a float producer
/// (rounding its input would only add error).
/// </summary>
public class StaticFloatReadersTests
{
    private const int Channels = 16;
    private const int Size = 8;

    [Test]
    public void ExcludedConvBetweenQuantizedConvsStaysFloatInOrtAndReadsTheRealRelu()
    {
        ModelProto model = ThreeConvModel();
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 51);
        float[] expected = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [1, Channels, Size, Size]) }]);

        StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true, NodesToExclude = ["conv2"] });

        NodeProto conv2 = model.Graph.Node.Single(n => n.Name == "conv2");
        Assert.That(conv2.Input[1], Is.EqualTo("W2"), "float weight kept");
        NodeProto reader = model.Graph.Node.Single(n => n.Output.Contains(conv2.Input[0]));
        Assert.That(reader.OpType, Is.EqualTo("Relu"), "conv2 reads the float Relu output: the Relu is not folded into a QuantizeLinear");

        // Before: ORT's WeightBiasQuantization re-quantized conv2 (its input came from a DequantizeLinear) and fused
        // all three into QLinearConv. Now it stays a float Conv between two integer ones.
        Dictionary<string, int> ops = StaticFusion.OptimizedOpCounts(model);
        string summary = string.Join(", ", ops.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        Assert.That(ops.GetValueOrDefault("QLinearConv"), Is.EqualTo(2), summary);
        Assert.That(ops.GetValueOrDefault("Conv") + ops.GetValueOrDefault("FusedConv"), Is.EqualTo(1), summary);

        float[] actual = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);
        double scale = expected.Max(Math.Abs);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.05 * scale), "int8 error of two layers only");
    }

    [Test]
    public void FloatReaderOfAFloatProducerReadsTheUnroundedTensor()
    {
        // X -> Sqrt (no int8 form) -> s; s feeds a quantized Conv and a float Log.
        var graph = new GraphProto { Name = "readers" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        graph.Node.Add(TinyModels.Node("Abs", "abs", ["X"], ["a"]));
        graph.Node.Add(TinyModels.Node("Sqrt", "sqrt", ["a"], ["s"]));
        graph.Initializer.Add(TensorData.CreateFloat("W", [Channels, Channels, 1, 1], TinyModels.RandomValues(Channels * Channels, 52, 0.3f)));
        graph.Node.Add(TinyModels.Node("Conv", "conv", ["s", "W"], ["Y"]));
        graph.Node.Add(TinyModels.Node("Log", "log", ["s"], ["L"]));
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        graph.Output.Add(new ValueInfoProto { Name = "L", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 53);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [1, Channels, Size, Size]) }]);

        StaticQuantization.Run(model, ranges, new StaticQuantizationOptions());

        NodeProto log = model.Graph.Node.Single(n => n.OpType == "Log");
        NodeProto conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        Assert.That(model.Graph.Node.Single(n => n.Output.Contains(log.Input[0])).OpType, Is.EqualTo("Sqrt"), "Log reads the float Sqrt output");
        Assert.That(model.Graph.Node.Single(n => n.Output.Contains(conv.Input[0])).OpType, Is.EqualTo("DequantizeLinear"), "the Conv reads int8");
    }

    /// <summary>Y = conv3(Relu(conv2(Relu(conv1(X))))), 16 channels, 3x3 pads 1.</summary>
    private static ModelProto ThreeConvModel()
    {
        var graph = new GraphProto { Name = "three" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        string input = "X";
        for (int i = 1; i <= 3; i++)
        {
            graph.Initializer.Add(TensorData.CreateFloat($"W{i}", [Channels, Channels, 3, 3], TinyModels.RandomValues(Channels * Channels * 9, 60 + i, 0.15f)));
            NodeProto conv = TinyModels.Node("Conv", $"conv{i}", [input, $"W{i}"], [$"c{i}"]);
            conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
            graph.Node.Add(conv);
            if (i < 3)
            {
                graph.Node.Add(TinyModels.Node("Relu", $"relu{i}", [$"c{i}"], [$"r{i}"]));
                input = $"r{i}";
            }
        }

        graph.Output.Add(new ValueInfoProto { Name = "c3", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
