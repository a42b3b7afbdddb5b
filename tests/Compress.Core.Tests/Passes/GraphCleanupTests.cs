// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

/// <summary>Graph clean-up on hand-built models.</summary>
public class GraphCleanupTests
{
    private static readonly GraphCleanupOptions AllOn = new();

    [TestCase("Conv", 1, 13)]
    [TestCase("Conv", 2, 13)]
    [TestCase("Conv", 2, 9)]
    [TestCase("ConvTranspose", 1, 13)]
    [TestCase("ConvTranspose", 2, 13)]
    public void BatchNormalizationFoldsIntoConvAndMatchesUnfolded(string op, int group, long opset)
    {
        const int c = 4, m = 6;
        ModelProto model = DynamicConvModels.Conv(c, m, [3, 3], group, pads: [1, 1, 1, 1], opset: opset, op: op);
        NodeProto conv = model.Graph.Node.Single();
        conv.Output[0] = "conv_out";
        model.Graph.Initializer.Add(TensorData.CreateFloat("gamma", [m], TinyModels.RandomValues(m, 40, 2f)));
        model.Graph.Initializer.Add(TensorData.CreateFloat("beta", [m], TinyModels.RandomValues(m, 41, 1f)));
        model.Graph.Initializer.Add(TensorData.CreateFloat("mean", [m], TinyModels.RandomValues(m, 42, 0.5f)));
        model.Graph.Initializer.Add(TensorData.CreateFloat("var", [m], TinyModels.RandomValues(m, 43, 0.5f).Select(v => v + 0.6f).ToArray()));
        NodeProto bn = TinyModels.Node("BatchNormalization", "bn", ["conv_out", "gamma", "beta", "mean", "var"], ["Y"]);
        bn.Attribute.Add(new AttributeProto { Name = "epsilon", Type = AttributeProto.Types.AttributeType.Float, F = 1e-3f });
        model.Graph.Node.Add(bn);
        float[] x = TinyModels.RandomValues(2 * c * 7 * 5, 44, 1f);
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [2, c, 7, 5]) };
        float[] expected = DynamicConvModels.Run(model, inputs, "Y")[0];

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.BatchNormFolded), Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { op }));
        Assert.That(model.Graph.Node[0].Output, Is.EqualTo(new[] { "Y" }));
        Assert.That(model.Graph.Initializer.Select(t => t.Name), Has.None.AnyOf("W", "B", "gamma", "beta", "mean", "var"), "unused constants removed");
        float[] actual = DynamicConvModels.Run(model, inputs, "Y")[0];
        Assert.That(DynamicConvModels.RelativeMaxDifference(actual, expected), Is.LessThanOrEqualTo(1e-5));
    }

    [TestCase(new long[] { 1, 6, 1, 1 }, true)]
    [TestCase(new long[] { 6, 1, 1 }, true)]
    [TestCase(new long[] { 1 }, true)]
    [TestCase(new long[] { 12 }, false)]
    public void PerChannelBiasAddFoldsIntoConvTransposeThenBatchNorm(long[] addDims, bool folds)
    {
        ModelProto model = DynamicConvModels.Conv(4, 6, [2, 2], strides: [2, 2], bias: false, op: "ConvTranspose");
        model.Graph.Node[0].Output[0] = "deconv";
        int count = (int)addDims.Aggregate(1L, (a, b) => a * b);
        model.Graph.Initializer.Add(TensorData.CreateFloat("add_b", addDims, TinyModels.RandomValues(count, 45, 1f)));
        model.Graph.Node.Add(TinyModels.Node("Add", "bias_add", ["deconv", "add_b"], ["biased"]));
        foreach ((string name, int seed) in new[] { ("gamma", 46), ("beta", 47), ("mean", 48) })
        {
            model.Graph.Initializer.Add(TensorData.CreateFloat(name, [6], TinyModels.RandomValues(6, seed, 1f)));
        }

        model.Graph.Initializer.Add(TensorData.CreateFloat("var", [6], TinyModels.RandomValues(6, 49, 0.4f).Select(v => v + 0.5f).ToArray()));
        model.Graph.Node.Add(TinyModels.Node("BatchNormalization", "bn", ["biased", "gamma", "beta", "mean", "var"], ["Y"]));
        float[] x = TinyModels.RandomValues(4 * 3 * 6, 50, 1f);
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [1, 4, 3, 6]) };
        float[] expected = DynamicConvModels.Run(model, inputs, "Y")[0];

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.BiasAddFolded), Is.EqualTo(folds ? 1 : 0));
        Assert.That(report.Count(GraphCleanup.BatchNormFolded), Is.EqualTo(folds ? 1 : 0));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(folds ? new[] { "ConvTranspose" } : ["ConvTranspose", "Add", "BatchNormalization"]));
        float[] actual = DynamicConvModels.Run(model, inputs, "Y")[0];
        Assert.That(DynamicConvModels.RelativeMaxDifference(actual, expected), Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void BatchNormalizationIsNotFoldedWhenTheConvOutputHasAnotherReader()
    {
        ModelProto model = DynamicConvModels.Conv(4, 6, [3, 3]);
        model.Graph.Node[0].Output[0] = "conv_out";
        foreach (string name in new[] { "gamma", "beta", "mean", "var" })
        {
            model.Graph.Initializer.Add(TensorData.CreateFloat(name, [6], Enumerable.Repeat(name == "var" ? 1f : 0.5f, 6).ToArray()));
        }

        model.Graph.Node.Add(TinyModels.Node("BatchNormalization", "bn", ["conv_out", "gamma", "beta", "mean", "var"], ["Y"]));
        model.Graph.Node.Add(TinyModels.Node("Relu", "relu", ["conv_out"], ["Z"]));
        model.Graph.Output.Add(new ValueInfoProto { Name = "Z", Type = model.Graph.Output[0].Type });

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.BatchNormFolded), Is.Zero);
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Conv", "BatchNormalization", "Relu" }));
    }

    [TestCase(7)]
    [TestCase(13)]
    public void IdentityAndDropoutAreRemovedAndGraphOutputsKeepTheirNames(long opset)
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Y2", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        graph.Node.Add(TinyModels.Node("Identity", "id0", ["X"], ["a"]));
        graph.Node.Add(TinyModels.Node("Relu", "relu", ["a"], ["b"]));
        graph.Node.Add(TinyModels.Node("Dropout", "drop", ["b"], ["c", "mask"]));
        graph.Node.Add(TinyModels.Node("Neg", "neg", ["c"], ["d"]));
        graph.Node.Add(TinyModels.Node("Identity", "id1", ["d"], ["Y"]));
        graph.Node.Add(TinyModels.Node("Identity", "id2", ["X"], ["Y2"]));
        graph.ValueInfo.Add(new ValueInfoProto { Name = "d", Type = graph.Output[0].Type });
        ModelProto model = DynamicConvModels.Model(graph, opset);
        float[] x = TinyModels.RandomValues(12, 50, 2f);
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [3, 4]) };
        float[][] expected = DynamicConvModels.Run(model, inputs, "Y", "Y2");

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.IdentityRemoved), Is.EqualTo(2), "id2 passes a graph input to a graph output and must stay");
        Assert.That(report.Count(GraphCleanup.DropoutRemoved), Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Relu", "Neg", "Identity" }));
        Assert.That(model.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "Y", "Y2" }));
        Assert.That(model.Graph.Node[1].Output, Is.EqualTo(new[] { "Y" }), "Neg now produces the graph output itself");
        Assert.That(model.Graph.ValueInfo, Is.Empty, "value_info of the renamed tensor is dropped");
        float[][] actual = DynamicConvModels.Run(model, inputs, "Y", "Y2");
        Assert.That(actual[0], Is.EqualTo(expected[0]));
        Assert.That(actual[1], Is.EqualTo(expected[1]));
        Assert.That(report.Count(GraphCleanup.NodesBefore) - report.Count(GraphCleanup.NodesAfter), Is.EqualTo(3));
    }

    [Test]
    public void DropoutWithReadMaskOrTrainingModeStays()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        graph.Input.Add(new ValueInfoProto { Name = "train", Type = TinyModels.TensorType(TensorProto.Types.DataType.Bool) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        graph.Output.Add(new ValueInfoProto { Name = "M", Type = TinyModels.TensorType(TensorProto.Types.DataType.Bool, 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Z", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        graph.Node.Add(TinyModels.Node("Dropout", "masked", ["X"], ["Y", "M"]));
        graph.Node.Add(TinyModels.Node("Dropout", "training", ["X", string.Empty, "train"], ["Z"]));
        ModelProto model = DynamicConvModels.Model(graph, 13);
        byte[] before = model.ToByteArray();

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.DropoutRemoved), Is.Zero);
        Assert.That(model.ToByteArray(), Is.EqualTo(before));
    }

    [Test]
    public void DeadNodeRemovalKeepsNodesReadOnlyFromASubgraph()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TinyModels.TensorType(TensorProto.Types.DataType.Bool) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        graph.Node.Add(TinyModels.Node("Relu", "outer_used", ["X"], ["relu_x"]));
        graph.Node.Add(TinyModels.Node("Neg", "dead", ["X"], ["unused"]));
        graph.Node.Add(TinyModels.Node("Sigmoid", "dead_chain_head", ["X"], ["s"]));
        graph.Node.Add(TinyModels.Node("Abs", "dead_chain_tail", ["s"], ["s_abs"]));
        var thenBranch = new GraphProto { Name = "then" };
        thenBranch.Node.Add(TinyModels.Node("Exp", "inner_dead", ["relu_x"], ["inner_unused"]));
        thenBranch.Node.Add(TinyModels.Node("Abs", "inner", ["relu_x"], ["then_y"]));
        thenBranch.Output.Add(new ValueInfoProto { Name = "then_y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        var elseBranch = new GraphProto { Name = "else" };
        elseBranch.Node.Add(TinyModels.Node("Neg", "inner_else", ["X"], ["else_y"]));
        elseBranch.Output.Add(new ValueInfoProto { Name = "else_y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 4) });
        NodeProto ifNode = TinyModels.Node("If", "if", ["cond"], ["Y"]);
        ifNode.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = thenBranch });
        ifNode.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = elseBranch });
        graph.Node.Add(ifNode);
        graph.Initializer.Add(TensorData.CreateFloat("orphan", [2], [1f, 2f]));
        ModelProto model = DynamicConvModels.Model(graph, 13);

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(model.Graph.Node.Select(n => n.Name), Is.EqualTo(new[] { "outer_used", "if" }), "outer_used is read only inside the then branch");
        Assert.That(thenBranch.Node.Select(n => n.Name), Is.EqualTo(new[] { "inner" }));
        Assert.That(report.Count(GraphCleanup.DeadNodesRemoved), Is.EqualTo(4));
        Assert.That(report.Count(GraphCleanup.InitializersRemoved), Is.EqualTo(1));
        float[] x = [-1f, 2f, -3f, 4f];
        Assert.That(RunIf(model, x, true), Is.EqualTo(new[] { 0f, 2f, 0f, 4f }));
        Assert.That(RunIf(model, x, false), Is.EqualTo(new[] { 1f, -2f, 3f, -4f }));
    }

    [Test]
    public void ConstantSubexpressionsAreFolded()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 6) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        float[] raw = TinyModels.RandomValues(24, 60, 1f);
        graph.Initializer.Add(TensorData.CreateFloat("raw", [24], raw));
        graph.Initializer.Add(TensorData.CreateInt64("shape", [2], [4, -1]));
        graph.Initializer.Add(TensorData.CreateFloat("half", [], [0.5f]));
        graph.Initializer.Add(TensorData.CreateFloat("bias", [4], [1f, 2f, 3f, 4f]));
        graph.Node.Add(TinyModels.Node("Reshape", "reshape", ["raw", "shape"], ["w4x6"]));
        graph.Node.Add(TinyModels.Node("Transpose", "transpose", ["w4x6"], ["w6x4"]));
        graph.Node.Add(TinyModels.Node("Mul", "scale", ["w6x4", "half"], ["w"]));
        graph.Node.Add(TinyModels.Node("Shape", "shape_of", ["bias"], ["bias_shape"]));
        graph.Node.Add(TinyModels.Node("Cast", "cast", ["bias_shape"], ["bias_len"]));
        graph.Node.Add(TinyModels.Node("Div", "div", ["bias", "bias_len"], ["bias_scaled"]));
        graph.Node.Add(TinyModels.Node("MatMul", "mm", ["X", "w"], ["xw"]));
        graph.Node.Add(TinyModels.Node("Add", "add", ["xw", "bias_scaled"], ["Y"]));
        graph.Node[4].Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (int)TensorProto.Types.DataType.Float });
        ModelProto model = DynamicConvModels.Model(graph, 13);
        float[] x = TinyModels.RandomValues(18, 61, 1f);
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [3, 6]) };
        float[] expected = DynamicConvModels.Run(model, inputs, "Y")[0];

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.ConstantsFolded), Is.EqualTo(6));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Constant", "Constant", "MatMul", "Add" }));
        var view = new ModelGraph(model);
        TensorProto w = view.Main.FindConstant("w")!.Value!;
        Assert.That(w.Dims, Is.EqualTo(new long[] { 6, 4 }));
        float[] folded = TensorData.ReadFloats(w);
        for (int r = 0; r < 6; r++)
        {
            for (int col = 0; col < 4; col++)
            {
                Assert.That(folded[(r * 4) + col], Is.EqualTo(raw[(col * 6) + r] * 0.5f), $"w[{r},{col}] = raw[{col},{r}] · 0.5");
            }
        }

        Assert.That(TensorData.ReadFloats(view.Main.FindConstant("bias_scaled")!.Value!), Is.EqualTo(new[] { 0.25f, 0.5f, 0.75f, 1f }));
        Assert.That(model.Graph.Initializer, Is.Empty);
        Assert.That(DynamicConvModels.Run(model, inputs, "Y")[0], Is.EqualTo(expected));
    }

    [Test]
    public void DivisionByAConstantBecomesMultiplicationByItsReciprocal()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Z", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "n", 4) });
        graph.Initializer.Add(TensorData.CreateFloat("six", [], [6f]));
        graph.Initializer.Add(TensorData.CreateFloat("zero", [], [0f]));
        graph.Node.Add(TinyModels.Node("Div", "hard_swish_div", ["X", "six"], ["Y"]));
        graph.Node.Add(TinyModels.Node("Div", "by_zero", ["X", "zero"], ["Z"]));
        ModelProto model = DynamicConvModels.Model(graph, 13);
        float[] x = TinyModels.RandomValues(12, 62, 5f);
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (x, [3, 4]) };
        float[] expected = DynamicConvModels.Run(model, inputs, "Y")[0];

        PassReport report = GraphCleanup.Run(model, AllOn);

        Assert.That(report.Count(GraphCleanup.DivisionsToMultiplications), Is.EqualTo(1), "a zero divisor is left alone");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Mul", "Div" }));
        float[] actual = DynamicConvModels.Run(model, inputs, "Y")[0];
        for (int i = 0; i < x.Length; i++)
        {
            // x · (1/6) and x / 6 differ by at most one float32 rounding step.
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(Math.Abs(expected[i]) * 2.5e-7f + 1e-30f), $"element {i}");
        }
    }

    [Test]
    public void EverythingSwitchedOffLeavesTheModelByteIdentical()
    {
        ModelProto model = DynamicConvModels.Conv(4, 6, [3, 3]);
        model.Graph.Node.Add(TinyModels.Node("Identity", "id", ["Y"], ["Y_copy"]));
        model.Graph.Node.Add(TinyModels.Node("Neg", "dead", ["Y"], ["unused"]));
        model.Graph.Initializer.Add(TensorData.CreateFloat("orphan", [1], [1f]));
        model.Graph.Output.Add(new ValueInfoProto { Name = "Y_copy", Type = model.Graph.Output[0].Type });
        byte[] before = model.ToByteArray();
        var off = new GraphCleanupOptions
        {
            RemoveIdentity = false, RemoveDropout = false, FoldConvBiasAdd = false, FoldBatchNormalization = false, FoldConstants = false, RemoveDeadNodes = false, RemoveUnusedInitializers = false,
            DivisionByConstantToMultiplication = false, FuseHardSwish = false,
        };

        PassReport report = GraphCleanup.Run(model, off);
        PassReport again = GraphCleanup.Run(ModelProto.Parser.ParseFrom(before), AllOn);

        Assert.That(model.ToByteArray(), Is.EqualTo(before));
        Assert.That(report.Count(GraphCleanup.NodesAfter), Is.EqualTo(3));
        Assert.That(again.Count(GraphCleanup.DeadNodesRemoved), Is.EqualTo(1));
        Assert.That(again.Count(GraphCleanup.InitializersRemoved), Is.EqualTo(1));
        using var json = System.Text.Json.JsonDocument.Parse(again.ToJson());
        Assert.That(json.RootElement.GetProperty("pass").GetString(), Is.EqualTo("graph_cleanup"));
        Assert.That(json.RootElement.GetProperty("counts").GetProperty("dead_nodes_removed").GetInt64(), Is.EqualTo(1));
    }

    private static float[] RunIf(ModelProto model, float[] x, bool condition)
    {
        using var session = OrtRunner.CreateSession(model.ToByteArray(), null);
        using var xValue = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(x, [4]);
        using var condValue = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new[] { condition }, []);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var outputs = session.Run(runOptions, ["X", "cond"], [xValue, condValue], ["Y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
