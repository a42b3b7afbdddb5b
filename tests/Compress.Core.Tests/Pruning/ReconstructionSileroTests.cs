using System.Globalization;
using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Pruning;

/// <summary>
/// Reconstruction of Silero VAD v4, whose 36 Conv (1-D) sit inside the two branches of an If on the sample rate: the
/// 16 kHz branch ran on the calibration data, so it is inlined on copies, refitted there and written back; the 8 kHz
/// branch never ran and is reported, not refitted.
/// </summary>
public class ReconstructionSileroTests
{
    private static readonly string[] ThenBranch = ["torch_jit/If_25.then_branch"];
    private static readonly string[] ElseBranch = ["torch_jit/If_25.else_branch"];

    [Test]
    public void HalfSparsityInsideIfBranchesIsRefittedAndKeepsFrameAccuracy()
    {
        ModelProto original = SharedMaterial.LoadModel("silero-vad-v4");
        ModelProto pruned = original.Clone();
        MagnitudePruning.Run(pruned, new MagnitudePruningOptions { Sparsity = 0.5 });
        ModelProto reconstructed = pruned.Clone();
        CalibrationDataSet data = CalibrationDataSet.Open([SharedMaterial.DataPath("vad_calib.npz")], reconstructed);

        ReconstructionResult result = Reconstruction.Reconstruct(reconstructed, new ReconstructionTeacher(original), data, new ReconstructionOptions());

        Dictionary<string, GraphNode> convs = new ModelGraph(reconstructed).AllNodes().Where(n => n.Node.OpType == "Conv").ToDictionary(n => n.Node.Name, StringComparer.Ordinal);
        string Branch(string node) => convs[node].Graph.Path;
        Assert.Multiple(() =>
        {
            Assert.That(result.Layers, Has.Count.EqualTo(18), "every Conv of the 16 kHz branch");
            Assert.That(result.Layers.Select(l => Branch(l.Node)).Distinct(), Is.EqualTo(ThenBranch));
            Assert.That(result.Layers.Where(l => l.ErrorAfter >= l.ErrorBefore).Select(l => l.Node), Is.Empty, "each refit lowers its layer's output error");
            Assert.That(result.Report.SkippedNodes.Where(s => s.Reason.Contains("never ran", StringComparison.Ordinal)).Select(s => Branch(s.Node)).Distinct(),
                Is.EqualTo(ElseBranch));
            Assert.That(result.Report.SkippedNodes, Has.Count.EqualTo(18), "the 8 kHz branch's Conv");
        });

        // Zeros stay zeros in both branches; the branch that never ran keeps its pruned weights exactly.
        var prunedGraph = new ModelGraph(pruned);
        int refitted = 0;
        foreach (GraphNode conv in prunedGraph.AllNodes().Where(n => n.Node.OpType == "Conv"))
        {
            float[] mask = TensorData.ReadFloats(conv.Graph.FindConstant(conv.Node.Input[1])!.Value!);
            GraphNode twin = convs[conv.Node.Name];
            float[] refit = TensorData.ReadFloats(twin.Graph.FindConstant(twin.Node.Input[1])!.Value!);
            Assert.That(Enumerable.Range(0, refit.Length).Count(i => (refit[i] == 0) != (mask[i] == 0)), Is.Zero, $"{conv.Node.Name}: same zeros");
            if (conv.Graph.Path.EndsWith("else_branch", StringComparison.Ordinal))
            {
                Assert.That(refit, Is.EqualTo(mask), $"{conv.Node.Name} never ran and is not refitted");
            }
            else
            {
                refitted += refit.SequenceEqual(mask) ? 0 : 1;
            }
        }

        Assert.That(refitted, Is.EqualTo(18), "the new weights were written back into the real model's branch");

        NpzArchive test = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("vad_test_y.npy")).ToInt64Array();
        double fp32 = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(original, test, batch: 1000), labels);
        double magnitudeOnly = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(pruned, test, batch: 1000), labels);
        double refitAccuracy = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(reconstructed, test, batch: 1000), labels);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"silero 50% unstructured: frame accuracy fp32 {fp32:F3}, magnitude only {magnitudeOnly:F3}, + reconstruction {refitAccuracy:F3}"));
        Assert.Multiple(() =>
        {
            Assert.That(magnitudeOnly, Is.LessThan(fp32 - 0.01), "magnitude pruning alone loses more than a point (why reconstruction matters here)");
            Assert.That(refitAccuracy, Is.GreaterThanOrEqualTo(fp32 - 0.005), "with reconstruction at most half a point is lost");
        });
    }
}
