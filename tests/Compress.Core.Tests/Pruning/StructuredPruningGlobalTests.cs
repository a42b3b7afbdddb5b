using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Calibration;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>
/// <c>scope: global</c> for structured pruning: the budget goes where the data says channels are not needed. Chain of
/// 1x1 Convs x(4) → a(8) → Relu → b(4) → c(4): b reads only a's even channels, c reads all of b's.
/// </summary>
public class StructuredPruningGlobalTests
{
    private const int Channels = 8;
    private static readonly int[] EvenChannels = [0, 2, 4, 6];

    [Test]
    public void TheQuarterOfTheComputeComesFromTheChannelsNothingReads()
    {
        using var folder = new TempFolder();
        ModelProto original = Chain();
        ModelProto global = original.Clone();
        ModelProto perLayer = original.Clone();
        CalibrationDataSet data = Data(folder, original);

        PassReport report = StructuredPruning.Run(global, new StructuredPruningOptions { Ratio = 0.25, ChannelMultiple = 1, ActivationData = data, Scope = MagnitudePruningScope.Global });
        StructuredPruning.Run(perLayer, new StructuredPruningOptions { Ratio = 0.25, ChannelMultiple = 1, ActivationData = data });

        // Compute per position: multiply-adds 4·ka + ka·kb + 4·kb, plus 16 per element of the tensors each channel shrinks
        // (a_out and a_act for a, b_out for b): 36·ka + ka·kb + 20·kb = 400 whole. The per-layer cut (ka 6, kb 3) leaves 294,
        // so 106 must go; each of a's odd channels saves 40: three of them.
        Assert.That(report.Count("layers_pruned"), Is.EqualTo(1), string.Join("\n", report.Notes));
        Assert.That(ReconstructionTeacher.Of(global)!.KeptOutputs("a"), Has.Count.EqualTo(5).And.SupersetOf(EvenChannels));
        Assert.That(report.SkippedNodes.Single(s => s.Node == "b").Reason, Does.Contain("global allocation keeps all its outputs"));
        Assert.That(report.Notes, Has.One.Contains("global allocation: 3 of 12 outputs of 2 measurable layers removed, 30.0 % of their compute (the per-layer cut: 26.5 %)"));
        Assert.That(ReconstructionTeacher.Of(perLayer)!.KeptOutputs("b"), Has.Count.EqualTo(3), "per layer, b loses one of its channels too");

        float[] x = TinyModels.RandomValues(4 * 36, 11, 2f);
        long[] shape = [1, 4, 6, 6];
        float[] expected = OrtRunner.Run(original, "x", x, shape);
        Assert.That(OrtRunner.Run(global, "x", x, shape), Is.EqualTo(expected).Within(1e-4f), "without reconstruction, nothing c sees changed");
        Assert.That(PruningMaterial.RelativeError(OrtRunner.Run(perLayer, "x", x, shape), expected), Is.GreaterThan(0.01), "per layer, b's cut shows in the output");
    }

    [TestCase(32, 16, 16)]
    [TestCase(384, 16, 192)]
    [TestCase(18, 16, 16)]
    [TestCase(12, 16, 12)]
    [TestCase(8, 1, 4)]
    [TestCase(9, 1, 5)]
    public void AGlobalCutTakesAtMostTwiceTheRatioOfALayer(int outputs, int multiple, int fewest) =>
        Assert.That(StructuredPruning.MinimumKept(outputs, new StructuredPruningOptions { Ratio = 0.25, ChannelMultiple = multiple }), Is.EqualTo(fewest));

    [Test]
    public void GlobalScopeNeedsActivationData()
    {
        var options = new StructuredPruningOptions { Ratio = 0.25, Scope = MagnitudePruningScope.Global };

        Assert.Throws<ArgumentException>(() => StructuredPruning.Run(Chain(), options));
    }

    private static ModelProto Chain()
    {
        var random = new Random(5);
        float Value() => (float)((random.NextDouble() * 2) - 1);
        var graph = new GraphProto { Name = "global_chain" };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, 4, 6, 6) });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, 4, 6, 6) });
        graph.Initializer.Add(TensorData.CreateFloat("wa", [Channels, 4, 1, 1], [.. Enumerable.Range(0, Channels * 4).Select(_ => Value())]));
        graph.Initializer.Add(TensorData.CreateFloat("wb", [4, Channels, 1, 1], [.. Enumerable.Range(0, 4 * Channels).Select(i => i % 2 == 1 ? 0f : Value())]));
        graph.Initializer.Add(TensorData.CreateFloat("wc", [4, 4, 1, 1], [.. Enumerable.Range(0, 16).Select(_ => Value())]));
        graph.Node.Add(TinyModels.Node("Conv", "a", ["x", "wa"], ["a_out"]));
        graph.Node.Add(TinyModels.Node("Relu", "a_relu", ["a_out"], ["a_act"]));
        graph.Node.Add(TinyModels.Node("Conv", "b", ["a_act", "wb"], ["b_out"]));
        // No Relu after b: none of its channels is dead, each carries its own part of c's input.
        graph.Node.Add(TinyModels.Node("Conv", "c", ["b_out", "wc"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 13 });
        return model;
    }

    private static CalibrationDataSet Data(TempFolder folder, ModelProto model)
    {
        string path = folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [16, 4, 6, 6], TinyModels.RandomValues(16 * 4 * 36, 5, 2f));
        return CalibrationDataSet.Open([path], model);
    }
}
