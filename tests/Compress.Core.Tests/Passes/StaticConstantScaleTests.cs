using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Tests.Passes;

/// <summary>A Mul by a positive constant of an int8 tensor becomes the scale of a DequantizeLinear.</summary>
public class StaticConstantScaleTests
{
    private const int Filters = 16;
    private const int Size = 10;

    [Test]
    public void MulByAPositiveConstantBetweenInt8ConvsBecomesADequantizeScale()
    {
        ModelProto model = Model(1f / 6);
        (float[] x, float[] expected, PassReport report) = Quantize(model);

        Assert.That(model.Graph.Node.Count(n => n.OpType == "Mul"), Is.Zero, "the Mul is gone");
        Assert.That(report.Notes, Has.Some.StartsWith("1 Mul by a positive constant folded"));
        NodeProto conv1 = model.Graph.Node.Single(n => n.Name == "conv1");
        NodeProto firstQuantize = model.Graph.Node.Single(n => n.OpType == "QuantizeLinear" && n.Input[0] == conv1.Output[0]);
        NodeProto conv2 = model.Graph.Node.Single(n => n.Name == "conv2");
        NodeProto dequantize = model.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Output[0] == conv2.Input[0]);
        Assert.That(dequantize.Input[0], Is.EqualTo(firstQuantize.Output[0]), "conv2 reads conv1's int8 output directly");
        float conv1Scale = Scalar(model, firstQuantize.Input[1]);
        Assert.That(Scalar(model, dequantize.Input[1]), Is.EqualTo(conv1Scale / 6).Within(1e-6 * conv1Scale), "with its scale times the constant");
        Assert.That(dequantize.Input[2], Is.EqualTo(firstQuantize.Input[2]), "and its zero point");

        // ORT runs two QLinearConv and nothing in between.
        ModelProto optimized = OrtRunner.OptimizedGraph(model);
        Assert.That(optimized.Graph.Node.Count(n => n.OpType == "QLinearConv"), Is.EqualTo(2));
        Assert.That(optimized.Graph.Node.Count(n => n.OpType is "Mul" or "QLinearMul"), Is.Zero);
        float[] actual = OrtRunner.Run(model, "X", x, [2, Filters, Size, Size]);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.03 * expected.Max(Math.Abs)), "two int8 layers' error");
    }

    [Test]
    public void MulByAPositiveConstantReadInFloatBecomesADequantizeLinear()
    {
        // Y = conv1(X) · 0.25 as the graph output: the Mul is read by no int8 node, and becomes DQ(conv1's int8 output, s · 0.25).
        ModelProto model = Model(0.25f);
        model.Graph.Node.Remove(model.Graph.Node.Single(n => n.Name == "conv2"));
        model.Graph.Node.Single(n => n.Name == "scale").Output[0] = "Y";
        (float[] x, float[] expected, PassReport report) = Quantize(model);

        Assert.That(report.Notes, Has.Some.StartsWith("1 Mul by a positive constant folded"));
        NodeProto last = model.Graph.Node.Single(n => n.Output.Contains("Y"));
        Assert.That(last.OpType, Is.EqualTo("DequantizeLinear"));
        NodeProto quantize = model.Graph.Node.Single(n => n.OpType == "QuantizeLinear" && n.Output[0] == last.Input[0]);
        Assert.That(Scalar(model, last.Input[1]), Is.EqualTo(Scalar(model, quantize.Input[1]) * 0.25f).Within(1e-6 * Scalar(model, quantize.Input[1])));
        float[] actual = OrtRunner.Run(model, "X", x, [2, Filters, Size, Size]);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.02 * expected.Max(Math.Abs)), "one int8 layer's error");
    }

    [Test]
    public void NegativeConstantStaysAMul()
    {
        ModelProto model = Model(-0.5f);

        (float[] x, float[] expected, PassReport report) = Quantize(model);

        Assert.That(model.Graph.Node.Count(n => n.OpType == "Mul"), Is.EqualTo(1), "a negative scale would flip the zero point: the Mul stays");
        Assert.That(report.Notes, Has.None.Contains("folded into the scale"));
        float[] actual = OrtRunner.Run(model, "X", x, [2, Filters, Size, Size]);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.03 * expected.Max(Math.Abs)));
    }

    private static (float[] X, float[] Expected, PassReport Report) Quantize(ModelProto model)
    {
        float[] x = TinyModels.RandomValues(2 * Filters * Size * Size, 81);
        float[] expected = OrtRunner.Run(model, "X", x, [2, Filters, Size, Size]);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, Filters, Size, Size]) }]);
        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true });
        return (x, expected, report);
    }

    private static float Scalar(ModelProto model, string name) => TensorData.ReadFloats(new ModelGraph(model).Main.FindConstant(name)!.Value!)[0];

    /// <summary>Y = conv2(conv1(X) · c), X[N,16,10,10], 3x3 Convs 16→16 with padding 1.</summary>
    private static ModelProto Model(float c)
    {
        var graph = new GraphProto { Name = "scale" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Filters, Size, Size) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Filters, Size, Size) });
        graph.Initializer.Add(TensorData.CreateFloat("W1", [Filters, Filters, 3, 3], TinyModels.RandomValues(Filters * Filters * 9, 82, 0.2f)));
        graph.Initializer.Add(TensorData.CreateFloat("W2", [Filters, Filters, 3, 3], TinyModels.RandomValues(Filters * Filters * 9, 83, 0.2f)));
        graph.Initializer.Add(TensorData.CreateFloat("c", [], [c]));
        foreach ((string name, string input, string weight, string output) in new[] { ("conv1", "X", "W1", "c1"), ("conv2", "m", "W2", "Y") })
        {
            NodeProto conv = TinyModels.Node("Conv", name, [input, weight], [output]);
            conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
            graph.Node.Add(conv);
            if (name == "conv1")
            {
                graph.Node.Add(TinyModels.Node("Mul", "scale", ["c1", "c"], ["m"]));
            }
        }

        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
