using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>Channels removed from a pointwise Conv flow through BN, hard-swish, a depthwise Conv and a squeeze-excitation gate.</summary>
public class StructuredPruningDepthwiseTests
{
    private const int Kept = DepthwiseChainModels.Channels / 2;
    private static readonly int[] EvenChannels = [0, 2, 4, 6];

    [TestCase(false)]
    [TestCase(true)]
    public void PointwiseChannelsFlowThroughTheDepthwiseConvAndTheOutputStays(bool squeezeExcitation)
    {
        ModelProto original = DepthwiseChainModels.Build(squeezeExcitation);
        ModelProto model = original.Clone();

        // se_reduce keeps its outputs so that the unpruned path is exactly the original computation.
        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1, NodesToExclude = ["se_reduce"] });

        Assert.That(report.Count("layers_pruned"), Is.EqualTo(1), string.Join("\n", report.SkippedNodes.Select(s => $"{s.Node}: {s.Reason}")));
        Assert.That(report.Notes[0], Does.StartWith($"pw1 (Conv): {DepthwiseChainModels.Channels} -> {Kept} outputs"));
        Assert.That(report.Notes[0], Does.Contain("through depthwise dw"));
        Assert.That(Dims(model, "w1"), Is.EqualTo(new long[] { Kept, DepthwiseChainModels.InputChannels, 1, 1 }));
        Assert.That(Dims(model, "b1"), Is.EqualTo(new long[] { Kept }));
        foreach (string bn in new[] { "bn1", "bn2" })
        {
            foreach (string parameter in new[] { "scale", "bias", "mean", "var" })
            {
                Assert.That(Dims(model, $"{bn}_{parameter}"), Is.EqualTo(new long[] { Kept }), $"{bn}_{parameter}");
            }
        }

        Assert.That(Dims(model, "wd"), Is.EqualTo(new long[] { Kept, 1, 3, 3 }));
        Assert.That(Dims(model, "bd"), Is.EqualTo(new long[] { Kept }));
        Assert.That(ModelGraph.GetInt(model.Graph.Node.Single(n => n.Name == "dw"), "group", 0), Is.EqualTo(Kept));
        Assert.That(Dims(model, "w2"), Is.EqualTo(new long[] { DepthwiseChainModels.Outputs, Kept, 1, 1 }));
        Assert.That(PruningMaterial.Initializer(model, "w1"), Is.EqualTo(EvenRows(PruningMaterial.Initializer(original, "w1"), DepthwiseChainModels.InputChannels)), "the small odd rows went");
        Assert.That(PruningMaterial.Initializer(model, "wd"), Is.EqualTo(EvenRows(PruningMaterial.Initializer(original, "wd"), 9)));
        if (squeezeExcitation)
        {
            Assert.That(report.Notes[0], Does.Contain("gate Convs se_expand follow"));
            Assert.That(Dims(model, "ws1"), Is.EqualTo(new long[] { DepthwiseChainModels.SqueezeChannels, Kept, 1, 1 }));
            Assert.That(Dims(model, "ws2"), Is.EqualTo(new long[] { Kept, DepthwiseChainModels.SqueezeChannels, 1, 1 }));
            Assert.That(Dims(model, "bs2"), Is.EqualTo(new long[] { Kept }));
            Assert.That(ReconstructionTeacher.Of(model)!.KeptOutputs("se_expand"), Is.EqualTo(EvenChannels));
            Assert.That(report.SkippedNodes.Single(s => s.Node == "se_expand").Reason, Does.Contain("multiplies the pruned channels"));
        }

        // ORT runs the smaller model, and the kept channels compute what they computed before.
        var random = new Random(3);
        float[] x = [.. Enumerable.Range(0, DepthwiseChainModels.InputChannels * 36).Select(_ => (float)((random.NextDouble() * 4) - 2))];
        long[] shape = [1, DepthwiseChainModels.InputChannels, 6, 6];
        float[] expected = OrtRunner.Run(original, "x", x, shape);
        float[] actual = OrtRunner.Run(model, "x", x, shape);
        Assert.That(actual, Has.Length.EqualTo(DepthwiseChainModels.Outputs * 36));
        Assert.That(actual, Is.EqualTo(expected).Within(1e-5f));
        Assert.That(expected.Max(Math.Abs), Is.GreaterThan(0.1f), "the reference is not trivially zero");
    }

    [Test]
    public void GateThatDoesNotComeFromAConvIsRefusedWithTheReason()
    {
        ModelProto model = DepthwiseChainModels.Build(squeezeExcitation: true);

        // Gating with the graph input instead of the SE branch: nothing could lose the same channels.
        NodeProto scale = model.Graph.Node.Single(n => n.Name == "se_scale");
        model.Graph.Input.Add(model.Graph.Input[0].Clone());
        model.Graph.Input[1].Name = "gate";
        scale.Input[1] = "gate";

        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1, NodesToExclude = ["se_reduce"] });

        Assert.That(report.SkippedNodes.Single(s => s.Node == "pw1").Reason, Does.Contain("multiplies the pruned channels with 'gate', which does not come from a Conv"));
        Assert.That(Dims(model, "w1"), Is.EqualTo(new long[] { DepthwiseChainModels.Channels, DepthwiseChainModels.InputChannels, 1, 1 }));
    }

    [Test]
    public void GateConvThatAlsoReadsThePrunedChannelsIsRefused()
    {
        ModelProto model = DepthwiseChainModels.Build(squeezeExcitation: true);

        // se_expand reads the pooled channels directly (8 -> 8) and gates them: one weight would lose rows and columns.
        model.Graph.Node.Single(n => n.Name == "se_expand").Input[0] = "g";
        int index = model.Graph.Initializer.IndexOf(model.Graph.Initializer.Single(t => t.Name == "ws2"));
        model.Graph.Initializer[index] = TensorData.CreateFloat("ws2", [DepthwiseChainModels.Channels, DepthwiseChainModels.Channels, 1, 1], new float[DepthwiseChainModels.Channels * DepthwiseChainModels.Channels]);

        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1, NodesToExclude = ["se_reduce"] });

        Assert.That(report.SkippedNodes.Single(s => s.Node == "pw1").Reason, Does.Contain("the gate Conv se_expand multiplied with the pruned channels also reads them"));
        Assert.That(Dims(model, "ws2"), Is.EqualTo(new long[] { DepthwiseChainModels.Channels, DepthwiseChainModels.Channels, 1, 1 }));
    }

    private static long[] Dims(ModelProto model, string name) => [.. model.Graph.Initializer.Single(t => t.Name == name).Dims];

    private static float[] EvenRows(float[] values, int rowLength) =>
        [.. values.Chunk(rowLength).Where((_, i) => i % 2 == 0).SelectMany(r => r)];
}
