using Compress.Core.Calibration;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;
using Google.Protobuf;

namespace Compress.Core.Tests.Pruning;

/// <summary>
/// Tuning re-runs a structured prune pass from the same original with different layers excluded; the activation
/// curves it measured on the first run serve every later one, and give exactly the models a fresh measurement gives.
/// </summary>
public class StructuredPruningCurveMemoTests
{
    [Test]
    public void ARunWithAnotherLayerExcludedReusesEveryCurveAndPrunesAsAFreshRunDoes()
    {
        ModelProto original = SharedMaterial.LoadModel("fashion-cnn");
        CalibrationDataSet data = PruningMaterial.Calibration(original, "fashion-cnn", 64);
        var memo = new StructuredPruningCurveMemo();
        StructuredPruningOptions Options(StructuredPruningCurveMemo? curves, params string[] excluded) =>
            new() { Ratio = 0.25, ChannelMultiple = 1, ActivationData = data, Curves = curves, NodesToExclude = excluded };
        (byte[] Bytes, PassReport Report) Prune(StructuredPruningOptions options)
        {
            ModelProto model = original.Clone();
            PassReport report = StructuredPruning.Run(model, options);
            return (model.ToByteArray(), report);
        }

        (byte[] all, PassReport report) = Prune(Options(memo));
        int measured = memo.Count;
        string firstPruned = original.Graph.Node.First(n => n.OpType == "Conv").Name;
        (byte[] withoutFirst, PassReport reportWithoutFirst) = Prune(Options(memo, firstPruned));

        Assert.Multiple(() =>
        {
            Assert.That(report.Count("layers_pruned"), Is.GreaterThanOrEqualTo(2), string.Join("\n", report.Notes));
            Assert.That(report.Notes, Has.Some.StartsWith(firstPruned + " (Conv)"), "the excluded layer is one the first run pruned");
            Assert.That(measured, Is.EqualTo(report.Count("layers_pruned")), "one curve per pruned layer");
            Assert.That(memo.Count, Is.EqualTo(measured), "the second run measured nothing new");
            Assert.That(reportWithoutFirst.Count("layers_pruned"), Is.EqualTo(report.Count("layers_pruned") - 1));
            Assert.That(withoutFirst, Is.EqualTo(Prune(Options(null, firstPruned)).Bytes), "a reused curve prunes as a fresh one");
            Assert.That(all, Is.EqualTo(Prune(Options(null)).Bytes));
        });
    }
}
