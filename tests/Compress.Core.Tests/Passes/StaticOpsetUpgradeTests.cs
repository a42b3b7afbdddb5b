using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

/// <summary>The opset upgrader static quantization uses for opset 9/11 models.</summary>
public class StaticOpsetUpgradeTests
{
    private static readonly string[] ExpectedChanges = ["1 Clip: min/max attributes -> inputs", "1 Softmax: 2-D coercion kept with Flatten/Reshape"];

    [Test]
    public void ClipAttributesAndSoftmaxCoercionKeepTheirResultsAtOpset13()
    {
        // Y = Softmax_axis1(Clip_attr(X, -0.5, 0.7)) on X[2,3,4]: opset 9 flattens to [2,12].
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 2, 3, 4) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 2, 3, 4) });
        NodeProto clip = TinyModels.Node("Clip", "clip", ["X"], ["c"]);
        clip.Attribute.Add(new AttributeProto { Name = "min", Type = AttributeProto.Types.AttributeType.Float, F = -0.5f });
        clip.Attribute.Add(new AttributeProto { Name = "max", Type = AttributeProto.Types.AttributeType.Float, F = 0.7f });
        NodeProto softmax = TinyModels.Node("Softmax", "softmax", ["c"], ["Y"]);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(clip);
        graph.Node.Add(softmax);
        var model = new ModelProto { IrVersion = 4, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 9 });
        float[] x = TinyModels.RandomValues(24, 31, 2f);
        float[] before = OrtRunner.Run(model, "X", x, [2, 3, 4]);

        OpsetUpgradeResult result = OpsetUpgrade.Upgrade(model, 13);

        Assert.That(result.Upgraded, Is.True, result.Reason);
        Assert.That(result.Changes, Is.EqualTo(ExpectedChanges));
        Assert.That(model.OpsetImport[0].Version, Is.EqualTo(13));
        Assert.That(model.IrVersion, Is.EqualTo(7));
        Assert.That(clip.Attribute, Is.Empty);
        Assert.That(clip.Input, Has.Count.EqualTo(3));
        float[] after = OrtRunner.Run(model, "X", x, [2, 3, 4]);
        Assert.That(after, Is.EqualTo(before).Within(1e-6f));
    }

    [Test]
    public void UnknownOperatorRefusesAndLeavesTheModelUntouched()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(TinyModels.Node("Upsample", "up", ["X", "scales"], ["Y"]));
        var model = new ModelProto { IrVersion = 4, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 9 });
        byte[] original = model.ToByteArray();

        OpsetUpgradeResult result = OpsetUpgrade.Upgrade(model, 13);

        Assert.That(result.Upgraded, Is.False);
        Assert.That(result.Reason, Is.EqualTo("Upsample 'up': operator not known to the opset upgrader"));
        Assert.That(model.ToByteArray(), Is.EqualTo(original));
    }
}
