// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Passes;

/// <summary>The hard-swish fusion of graph clean-up: <c>x · Clip(x + 3, 0, 6) / 6</c> → <c>x · HardSigmoid(x)</c>.</summary>
public class GraphCleanupHardSwishTests
{
    /// <summary>How the exporter spells the hard-swish.</summary>
    public enum Spelling
    {
        /// <summary>Add(x, 3) → Clip → Mul(x, ·) → Div(·, 6): paddle2onnx.</summary>
        ProductThenDivide,

        /// <summary>Add(3, x) → Clip → Mul(·, x) → Mul(·, 1/6).</summary>
        ProductThenMultiplyBySixth,

        /// <summary>Add(x, 3) → Clip → Div(·, 6) → Mul(x, ·): hard-sigmoid first.</summary>
        DivideThenProduct,
    }

    [TestCase(Spelling.ProductThenDivide, 9)]
    [TestCase(Spelling.ProductThenDivide, 13)]
    [TestCase(Spelling.ProductThenMultiplyBySixth, 13)]
    [TestCase(Spelling.DivideThenProduct, 11)]
    public void EverySpellingBecomesHardSigmoidTimesInput(Spelling spelling, long opset)
    {
        ModelProto model = HardSwish(spelling, opset);
        float[] x = [.. TinyModels.RandomValues(48, 70, 6f), -3f, 3f, -1.5f, 0f, 6f, -6f];
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [x.Length]) };
        float[] expected = DynamicConvModels.Run(model, inputs, "Y")[0];

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions());

        Assert.That(report.Count(GraphCleanup.HardSwishFused), Is.EqualTo(1));
        Assert.That(report.Count(GraphCleanup.DivisionsToMultiplications), Is.Zero, "the Div went with the fusion");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "HardSigmoid", "Mul" }));
        NodeProto hardSigmoid = model.Graph.Node[0];
        Assert.That(hardSigmoid.Input, Is.EqualTo(new[] { "X" }));
        Assert.That(ModelGraph.GetFloat(hardSigmoid, "alpha", 0), Is.EqualTo(1f / 6));
        Assert.That(ModelGraph.GetFloat(hardSigmoid, "beta", 0), Is.EqualTo(0.5f));
        Assert.That(model.Graph.Node[1].Input, Is.EqualTo(new[] { "X", hardSigmoid.Output[0] }));
        Assert.That(model.Graph.Node[1].Output, Is.EqualTo(new[] { "Y" }), "the graph output keeps its name");
        Assert.That(model.Graph.Initializer, Is.Empty, "the constants 3, 0, 6 went with their nodes");
        float[] actual = DynamicConvModels.Run(model, inputs, "Y")[0];
        for (int i = 0; i < x.Length; i++)
        {
            // Clip(x + 3, 0, 6) / 6 and max(0, min(1, x/6 + 0.5)) differ by a few float32 rounding steps.
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(Math.Abs(expected[i]) * 1e-6f + 1e-7f), $"x = {x[i]}");
        }
    }

    [TestCase(5f, false, "X", TestName = "A Clip to 5 is not a hard-swish")]
    [TestCase(6f, true, "X", TestName = "A clipped value read elsewhere stays")]
    [TestCase(6f, false, "W", TestName = "A product with another tensor is not a hard-swish")]
    public void LookAlikesStay(float clipMax, bool clipIsOutput, string productInput)
    {
        ModelProto model = HardSwish(Spelling.ProductThenDivide, 13, clipMax, productInput);
        if (clipIsOutput)
        {
            model.Graph.Output.Add(new ValueInfoProto { Name = "clipped", Type = model.Graph.Output[0].Type });
        }

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions());

        Assert.That(report.Count(GraphCleanup.HardSwishFused), Is.Zero);
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Add", "Clip", "Mul", "Mul" }), "only the Div became a Mul");
    }

    [Test]
    public void SwitchedOffLeavesTheHardSwishSpelledOut()
    {
        ModelProto model = HardSwish(Spelling.ProductThenDivide, 13);

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions { FuseHardSwish = false, DivisionByConstantToMultiplication = false });

        Assert.That(report.Count(GraphCleanup.HardSwishFused), Is.Zero);
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Add", "Clip", "Mul", "Div" }));
    }

    [Test]
    public void OcrClsHardSwishesFuseIntoItsConvsInOnnxRuntime()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath("cls_test_x.npy"));
        float[] expected = SharedModelRunner.Outputs(model, x, 16);

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions());

        Assert.That(report.Count(GraphCleanup.HardSwishFused), Is.EqualTo(18), "every hard-swish of the MobileNetV3 backbone");
        Assert.That(model.Graph.Node.Count(n => n.OpType is "Clip" or "Div"), Is.Zero);
        Assert.That(model.Graph.Node.Count(n => n.OpType == "HardSigmoid"), Is.EqualTo(18 + 9), "the fused ones and the squeeze-excitation gates");
        float[] actual = SharedModelRunner.Outputs(model, x, 16);
        double maxDifference = actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        TestContext.Out.WriteLine($"ocr-cls with fused hard-swish: max |Δp| over 16 rows {maxDifference:G3}");
        Assert.That(maxDifference, Is.LessThanOrEqualTo(1e-5));

        // With all its optimizations ORT fuses HardSigmoid · x into the activation of the (NCHWc) Conv before it:
        // nothing is left of a hard-swish. The original's four nodes per hard-swish all stay.
        ModelProto optimized = OrtRunner.OptimizedGraph(model, Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL);
        Assert.That(optimized.Graph.Node.Count(n => n.OpType is "HardSigmoid" or "Clip" or "Div"), Is.Zero);
        Assert.That(optimized.Graph.Node.Count(n => n.OpType == "Mul"), Is.EqualTo(9), "the squeeze-excitation products only");
        ModelProto original = OrtRunner.OptimizedGraph(SharedMaterial.LoadModel("ocr-cls"), Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL);
        Assert.That(original.Graph.Node.Count(n => n.OpType == "Clip"), Is.EqualTo(18));
    }

    [TestCase(true, TestName = "Static quantization fuses a hard-swish left in float")]
    [TestCase(false, TestName = "Static quantization keeps a quantized hard-swish spelled out")]
    public void StaticQuantizationFusesOnlyTheHardSwishesLeftInFloat(bool firstConvExcluded)
    {
        // X[N,16,8,8] -> conv1 -> hard-swish -> conv2 -> Y
        const int c = 16, size = 8;
        ModelProto model = HardSwish(Spelling.ProductThenDivide, 13);
        GraphProto graph = model.Graph;
        graph.Input[0].Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", c, size, size);
        graph.Output[0].Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "N", c, size, size);
        graph.Initializer.Add(TensorData.CreateFloat("W1", [c, c, 1, 1], TinyModels.RandomValues(c * c, 75, 0.5f)));
        graph.Initializer.Add(TensorData.CreateFloat("W2", [c, c, 1, 1], TinyModels.RandomValues(c * c, 76, 0.5f)));
        foreach (NodeProto node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                node.Input[i] = node.Input[i] == "X" ? "h" : node.Input[i];
            }

            node.Output[0] = node.Output[0] == "Y" ? "s" : node.Output[0];
        }

        graph.Node.Insert(0, TinyModels.Node("Conv", "conv1", ["X", "W1"], ["h"]));
        graph.Node.Add(TinyModels.Node("Conv", "conv2", ["s", "W2"], ["Y"]));
        float[] x = TinyModels.RandomValues(2 * c * size * size, 77, 2f);
        float[] expected = OrtRunner.Run(model, "X", x, [2, c, size, size]);
        Dictionary<string, Compress.Core.Calibration.TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, c, size, size]) }]);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true, NodesToExclude = firstConvExcluded ? ["conv1", "add", "clip", "mul", "div"] : [] });

        Assert.That(model.Graph.Node.Count(n => n.OpType == "HardSigmoid"), Is.EqualTo(firstConvExcluded ? 1 : 0));
        Assert.That(model.Graph.Node.Count(n => n.OpType == "Add"), Is.EqualTo(firstConvExcluded ? 0 : 1), "x + 3 (its Clip folds into the int8 range)");
        Assert.That(report.Notes.Any(n => n.StartsWith("1 hard-swish(es) left in float", StringComparison.Ordinal)), Is.EqualTo(firstConvExcluded));
        float[] actual = OrtRunner.Run(model, "X", x, [2, c, size, size]);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(0.05 * expected.Max(Math.Abs)));
    }

    /// <summary>Y = hard-swish(X) in one of its spellings, the constants as initializers.</summary>
    private static ModelProto HardSwish(Spelling spelling, long opset, float clipMax = 6f, string productInput = "X")
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n") });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n") });
        graph.Initializer.Add(TensorData.CreateFloat("three", [1], [3f]));
        graph.Initializer.Add(TensorData.CreateFloat("six", [], [6f]));
        graph.Initializer.Add(TensorData.CreateFloat("sixth", [], [1f / 6]));
        if (productInput != "X")
        {
            graph.Input.Add(new ValueInfoProto { Name = productInput, Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n") });
        }

        graph.Node.Add(TinyModels.Node("Add", "add", spelling == Spelling.ProductThenMultiplyBySixth ? ["three", "X"] : ["X", "three"], ["shifted"]));
        NodeProto clip = TinyModels.Node("Clip", "clip", ["shifted"], ["clipped"]);
        if (opset < 11)
        {
            clip.Attribute.Add(new AttributeProto { Name = "min", Type = AttributeProto.Types.AttributeType.Float, F = 0f });
            clip.Attribute.Add(new AttributeProto { Name = "max", Type = AttributeProto.Types.AttributeType.Float, F = clipMax });
        }
        else
        {
            graph.Initializer.Add(TensorData.CreateFloat("low", [], [0f]));
            graph.Initializer.Add(TensorData.CreateFloat("high", [], [clipMax]));
            clip.Input.Add("low");
            clip.Input.Add("high");
        }

        graph.Node.Add(clip);
        switch (spelling)
        {
            case Spelling.ProductThenDivide:
                graph.Node.Add(TinyModels.Node("Mul", "mul", [productInput, "clipped"], ["product"]));
                graph.Node.Add(TinyModels.Node("Div", "div", ["product", "six"], ["Y"]));
                break;
            case Spelling.ProductThenMultiplyBySixth:
                graph.Node.Add(TinyModels.Node("Mul", "mul", ["clipped", productInput], ["product"]));
                graph.Node.Add(TinyModels.Node("Mul", "scale", ["sixth", "product"], ["Y"]));
                break;
            default:
                graph.Node.Add(TinyModels.Node("Div", "div", ["clipped", "six"], ["gate"]));
                graph.Node.Add(TinyModels.Node("Mul", "mul", [productInput, "gate"], ["Y"]));
                break;
        }

        return DynamicConvModels.Model(graph, opset);
    }
}
