using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Calibration;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>Channels removed from a pointwise Conv flow through BN, hard-swish, a depthwise Conv and a squeeze-excitation gate.</summary>
public class StructuredPruningDepthwiseTests
{
    private const int Kept = DepthwiseChainModels.Channels / 2;
    private static readonly int[] EvenChannels = [0, 2, 4, 6];
    private static readonly int[] OddChannels = [1, 3, 5, 7];

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

    [Test]
    public void ActivationImportanceKeepsTheChannelsTheNextLayerReadsWhereWeightNormsDoNot()
    {
        using var folder = new TempFolder();
        ModelProto original = DepthwiseChainModels.Build(squeezeExcitation: false);

        // Odd rows of pw1 made the largest: a weight norm keeps exactly the channels pw2 ignores.
        int index = original.Graph.Initializer.IndexOf(original.Graph.Initializer.Single(t => t.Name == "w1"));
        float[] w1 = PruningMaterial.Initializer(original, "w1");
        original.Graph.Initializer[index] = TensorData.CreateFloat("w1", [DepthwiseChainModels.Channels, DepthwiseChainModels.InputChannels, 1, 1], [.. w1.Select((v, i) => (i / DepthwiseChainModels.InputChannels) % 2 == 1 ? v * 200 : v)]);
        ModelProto byWeights = original.Clone();
        ModelProto byActivations = original.Clone();
        CalibrationDataSet data = ChainData(folder, original);

        StructuredPruning.Run(byWeights, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1 });
        PassReport report = StructuredPruning.Run(byActivations, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1, ActivationData = data });

        Assert.That(ReconstructionTeacher.Of(byWeights)!.KeptOutputs("pw1"), Is.EqualTo(OddChannels));
        Assert.That(report.Notes[^1], Does.Contain("importance activations"));
        Assert.That(report.Notes[0], Does.Not.Contain("weight norm"));

        // pw2 reads nothing from the odd channels, so losing them costs its least-squares fit nothing: the output stays.
        float[] x = TinyModels.RandomValues(DepthwiseChainModels.InputChannels * 36, 11, 2f);
        long[] shape = [1, DepthwiseChainModels.InputChannels, 6, 6];
        float[] expected = OrtRunner.Run(original, "x", x, shape);
        Assert.That(OrtRunner.Run(byActivations, "x", x, shape), Is.EqualTo(expected).Within(1e-4f));
        Assert.That(PruningMaterial.RelativeError(OrtRunner.Run(byWeights, "x", x, shape), expected), Is.GreaterThan(0.5), "the weight norm lost what pw2 reads");
    }

    [Test]
    public void ReconstructionRefitsThePrunedDepthwiseConvChannelByChannel()
    {
        using var folder = new TempFolder();
        ModelProto original = DepthwiseChainModels.Build(squeezeExcitation: false);
        ModelProto model = original.Clone();
        StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1 });
        float[] kept = PruningMaterial.Initializer(model, "wd");

        // A disturbed depthwise weight (as when the layers before it were refitted on other inputs) is what the refit undoes.
        int index = model.Graph.Initializer.IndexOf(model.Graph.Initializer.Single(t => t.Name == "wd"));
        model.Graph.Initializer[index] = TensorData.CreateFloat("wd", [Kept, 1, 3, 3], [.. kept.Select((v, i) => v + (i % 3 == 0 ? 0.3f : -0.2f))]);
        ReconstructionResult result = Reconstruction.Reconstruct(model, ReconstructionTeacher.Of(model)!, ChainData(folder, model), new ReconstructionOptions { Damping = 1e-9 });

        ReconstructionLayer dw = result.Layers.Single(l => l.Node == "dw");
        Assert.That((dw.Outputs, dw.Inputs), Is.EqualTo((Kept, 9)), "4 channels, each solved on its own 3x3 window");
        Assert.That(dw.ErrorBefore, Is.GreaterThan(0.01));
        Assert.That(dw.ErrorAfter, Is.LessThan(dw.ErrorBefore * 1e-6));
        Assert.That(PruningMaterial.Initializer(model, "wd"), Is.EqualTo(kept).Within(1e-3f), "its inputs are the original ones, so the original weights come back");
    }

    /// <summary>16 random inputs of the chain, one per batch (its input has batch 1).</summary>
    private static CalibrationDataSet ChainData(TempFolder folder, ModelProto model)
    {
        string path = folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [16, DepthwiseChainModels.InputChannels, 6, 6], TinyModels.RandomValues(16 * DepthwiseChainModels.InputChannels * 36, 5, 2f));
        return CalibrationDataSet.Open([path], model);
    }

    private static long[] Dims(ModelProto model, string name) => [.. model.Graph.Initializer.Single(t => t.Name == name).Dims];

    private static float[] EvenRows(float[] values, int rowLength) =>
        [.. values.Chunk(rowLength).Where((_, i) => i % 2 == 0).SelectMany(r => r)];
}
