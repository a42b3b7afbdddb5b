// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Passes;

public class ModelGraphTests
{
    [Test]
    public void SileroSubgraphConvWeightsResolveToOuterInitializers()
    {
        var graph = new ModelGraph(SharedMaterial.LoadModel("silero-vad-v4"));

        List<GraphNode> convs = graph.AllNodes().Where(n => n.Node.OpType == "Conv").ToList();
        List<ConstantTensor> weights = convs.Select(c => c.Graph.FindConstant(c.Node.Input[1])!).ToList();

        Assert.That(convs, Has.Count.EqualTo(36));
        Assert.That(convs.Select(c => c.Graph.Depth), Has.All.GreaterThan(0));
        Assert.That(weights, Has.None.Null);
        Assert.That(weights.Select(w => w.Owner), Has.All.EqualTo(graph.Main), "Conv weights are top-level initializers");
        Assert.That(weights.Select(w => w.Source), Has.All.EqualTo(ConstantSource.Initializer));
        GraphNode lstm = graph.AllNodes().First(n => n.Node.OpType == "LSTM");
        ConstantTensor lstmWeight = lstm.Graph.FindConstant(lstm.Node.Input[1])!;
        Assert.That(lstmWeight.Owner.Depth, Is.GreaterThan(0), "LSTM weights are local to the nested subgraph");
    }

    [Test]
    public void OcrClsMatMulWeightIsAConstantNode()
    {
        var graph = new ModelGraph(SharedMaterial.LoadModel("ocr-cls"));
        GraphNode matMul = graph.AllNodes().Single(n => n.Node.OpType == "MatMul");

        ConstantTensor weight = matMul.Graph.FindConstant(matMul.Node.Input[1])!;

        Assert.That(weight.Source, Is.EqualTo(ConstantSource.ConstantNode));
        Assert.That(weight.Dims, Is.EqualTo(new long[] { 200, 2 }));
        Assert.That(weight.DataType, Is.EqualTo(TensorProto.Types.DataType.Float));
        Assert.That(matMul.Graph.FindConstant(matMul.Node.Input[0]), Is.Null, "activation is not a constant");
        Assert.That(graph.OpsetVersion(string.Empty), Is.EqualTo(9));
        Assert.That(graph.OpsetVersion("ai.onnx"), Is.EqualTo(9));
        Assert.That(graph.OpsetVersion(ModelGraph.MicrosoftDomain), Is.Zero);
    }

    [Test]
    public void ConstantNodeScalarAndListAttributesBecomeTensors()
    {
        var floats = new NodeProto { OpType = "Constant" };
        floats.Output.Add("f");
        floats.Attribute.Add(new AttributeProto { Name = "value_floats", Type = AttributeProto.Types.AttributeType.Floats, Floats = { 1f, 2.5f } });
        var integer = new NodeProto { OpType = "Constant" };
        integer.Output.Add("i");
        integer.Attribute.Add(new AttributeProto { Name = "value_int", Type = AttributeProto.Types.AttributeType.Int, I = 7 });

        TensorProto f = ModelGraph.ConstantNodeValue(floats, "f")!;
        TensorProto i = ModelGraph.ConstantNodeValue(integer, "i")!;

        Assert.That(f.Dims, Is.EqualTo(new long[] { 2 }));
        Assert.That(TensorData.ReadFloats(f), Is.EqualTo(new[] { 1f, 2.5f }));
        Assert.That(i.Dims, Is.Empty);
        Assert.That(TensorData.ReadInt64s(i), Is.EqualTo(new long[] { 7 }));
    }

    [Test]
    public void InnerDefinitionShadowsOuterConstantAndUsesRespectShadowing()
    {
        ModelProto model = TinyModels.MatMulInIf();
        GraphProto thenBranch = model.Graph.Node[0].Attribute.Single(a => a.Name == "then_branch").G;
        thenBranch.Node.Insert(0, TinyModels.Node("Identity", "shadow", ["X"], ["W_outer"]));
        var graph = new ModelGraph(model);
        GraphScope thenScope = graph.Graphs.Single(g => g.AttributeName == "then_branch");

        Assert.That(thenScope.FindConstant("W_outer"), Is.Null, "the branch's own W_outer is computed, not the outer initializer");
        Assert.That(graph.FindUses(graph.Main, "W_outer"), Is.Empty, "the shadowed branch does not read the outer W_outer");
        Assert.That(graph.FindUses(graph.Main, "X").Select(u => u.Node.Name), Is.EquivalentTo(new[] { "shadow", "then_mm", "else_mm" }));
        Assert.That(thenScope.Path, Is.EqualTo("tiny/branch.then_branch"));
    }

    [Test]
    public void EditingKeepsOrderAndNamesUnique()
    {
        var graph = new ModelGraph(TinyModels.MatMul());
        NodeProto matMul = graph.Main.Graph.Node[0];

        string name = graph.UniqueName("W");
        string again = graph.UniqueName("W");
        NodeProto relu = graph.CreateNode("Relu", graph.UniqueName("relu"), ["X"], [graph.UniqueName("X_relu")]);
        graph.InsertBefore(graph.Main, matMul, [relu]);
        matMul.Input[0] = relu.Output[0];
        ConstantTensor w = graph.Main.FindConstant("W")!;
        bool removedWhileUsed = graph.RemoveConstantIfUnused(w);
        graph.RemoveNode(graph.Main, matMul);
        bool removedUnused = graph.RemoveConstantIfUnused(w);

        Assert.That(name, Is.EqualTo("W_1"));
        Assert.That(again, Is.EqualTo("W_2"));
        Assert.That(graph.Main.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }));
        Assert.That(removedWhileUsed, Is.False);
        Assert.That(removedUnused, Is.True);
        Assert.That(graph.Main.Graph.Initializer, Is.Empty);
    }
}
