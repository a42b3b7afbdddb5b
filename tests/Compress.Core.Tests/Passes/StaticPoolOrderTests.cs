using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;

namespace Compress.Core.Tests.Passes;

/// <summary>Where a MaxPool runs: a float Relu → MaxPool before an int8 layer becomes MaxPool → Relu, and only a MaxPool after an int8 Conv is quantized.</summary>
public class StaticPoolOrderTests
{
    private const int Filters = 16;
    private const int Size = 12;
    private static readonly string[] PoolFirst = ["Conv", "MaxPool", "Relu", "Conv"];

    [Test]
    public void FloatReluThenMaxPoolIsReorderedWithTheSameOutputsAndTheMaxPoolStaysFloat()
    {
        ModelProto model = Model();
        float[] x = TinyModels.RandomValues(2 * Size * Size, 71);
        float[] expected = OrtRunner.Run(model, "X", x, [2, 1, Size, Size]);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, 1, Size, Size]) }]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true });

        Assert.That(report.Notes, Has.Some.StartsWith("1 float Relu → MaxPool pair(s) reordered"));
        string[] order = [.. model.Graph.Node.Select(n => n.OpType).Where(op => op is "Conv" or "Relu" or "MaxPool")];
        Assert.That(order, Is.EqualTo(PoolFirst));

        // The first Conv reads 1 channel and stays float; ORT runs the MaxPool in float (no uint8 MaxPool).
        ModelProto optimized = OrtRunner.OptimizedGraph(model);
        NodeProto[] pools = [.. optimized.Graph.Node.Where(n => n.OpType is "MaxPool" or "NhwcMaxPool")];
        Assert.That(pools, Has.Length.EqualTo(1));
        Assert.That(optimized.Graph.Node.Where(n => n.OpType == "QuantizeLinear").SelectMany(n => n.Output), Has.None.AnyOf(pools[0].Input.ToArray()), "the MaxPool does not read int8");

        float[] actual = OrtRunner.Run(model, "X", x, [2, 1, Size, Size]);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.03 * expected.Max(Math.Abs)), "one int8 layer's error");
    }

    [TestCase("Relu", true)]
    [TestCase("Add", false)]
    public void MaxPoolIsQuantizedOnlyAfterAnInt8Conv(string between, bool quantized)
    {
        // X[N,16,12,12] -> conv1 -> (Relu | Add of X) -> MaxPool -> conv2. ORT runs a uint8 MaxPool fast only in the NHWC
        // form of an int8 Conv chain, so after an element-wise op it stays float.
        var graph = new GraphProto { Name = "pool" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Filters, Size, Size) });
        graph.Initializer.Add(TensorData.CreateFloat("W1", [Filters, Filters, 3, 3], TinyModels.RandomValues(Filters * Filters * 9, 74, 0.2f)));
        graph.Initializer.Add(TensorData.CreateFloat("W2", [Filters, Filters, 3, 3], TinyModels.RandomValues(Filters * Filters * 9, 75, 0.2f)));
        NodeProto conv1 = TinyModels.Node("Conv", "conv1", ["X", "W1"], ["c1"]);
        conv1.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(conv1);
        graph.Node.Add(between == "Relu" ? TinyModels.Node("Relu", "mid", ["c1"], ["m"]) : TinyModels.Node("Add", "mid", ["c1", "X"], ["m"]));
        NodeProto pool = TinyModels.Node("MaxPool", "pool", ["m"], ["p"]);
        pool.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        pool.Attribute.Add(new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        graph.Node.Add(pool);
        graph.Node.Add(TinyModels.Node("Conv", "conv2", ["p", "W2"], ["Y"]));
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Filters, (Size / 2) - 2, (Size / 2) - 2) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        float[] x = TinyModels.RandomValues(2 * Filters * Size * Size, 76);
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, Filters, Size, Size]) }]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true });

        SkippedNode? skipped = report.SkippedNodes.SingleOrDefault(n => n.Node == "pool");
        Assert.That(skipped is null, Is.EqualTo(quantized), skipped?.Reason);
        if (!quantized)
        {
            Assert.That(skipped!.Reason, Does.StartWith("its input does not come from an int8 Conv"));
        }
    }

    /// <summary>Y = conv2(MaxPool(Relu(conv1(X[N,1,12,12])))), conv1 1→16 3x3, conv2 16→16 3x3.</summary>
    private static ModelProto Model()
    {
        var graph = new GraphProto { Name = "pool" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", 1, Size, Size) });
        graph.Initializer.Add(TensorData.CreateFloat("W1", [Filters, 1, 3, 3], TinyModels.RandomValues(Filters * 9, 72, 0.5f)));
        graph.Initializer.Add(TensorData.CreateFloat("W2", [Filters, Filters, 3, 3], TinyModels.RandomValues(Filters * Filters * 9, 73, 0.2f)));
        NodeProto conv1 = TinyModels.Node("Conv", "conv1", ["X", "W1"], ["c1"]);
        conv1.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(conv1);
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["c1"], ["r1"]));
        NodeProto pool = TinyModels.Node("MaxPool", "pool", ["r1"], ["p1"]);
        pool.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        pool.Attribute.Add(new AttributeProto { Name = "strides", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 2, 2 } });
        graph.Node.Add(pool);
        graph.Node.Add(TinyModels.Node("Conv", "conv2", ["p1", "W2"], ["Y"]));
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", Filters, (Size / 2) - 2, (Size / 2) - 2) });
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }
}
