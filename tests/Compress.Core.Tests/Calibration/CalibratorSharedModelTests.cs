using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Calibration;

/// <summary>Calibration of the shared models: models without value_info, Constant-node weights, If subgraphs.</summary>
[TestFixture]
public sealed class CalibratorSharedModelTests
{
    private static readonly string[] SileroMainGraphFloats = ["input", "h", "c", "output", "hn", "cn"];

    [Test]
    public void OcrClassifierGetsARangeForEveryFloatActivationOfTheMainGraph()
    {
        // No value_info at all, weights in 250 Constant nodes: ORT infers the types of the added outputs.
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        CalibrationDataSet data = CalibrationDataSet.Open([SharedMaterial.DataPath("cls_calib_x.npy")], model, maxSamples: 8);
        CalibrationResult result = Calibrator.Calibrate(model, data, new CalibrationOptions { BatchSize = 4 });

        var computed = model.Graph.Node.Where(n => n.OpType != "Constant").SelectMany(n => n.Output).ToHashSet();
        Assert.That(result.SamplesUsed, Is.EqualTo(8));
        Assert.That(result.BatchesRun, Is.EqualTo(2));
        Assert.That(result.Ranges.Keys, Does.Contain("x"));
        Assert.That(result.Ranges.Keys.Where(k => k != "x"), Is.SubsetOf(computed));
        // Every Conv output and the final softmax are calibrated; nothing is reported missing.
        IEnumerable<string> convOutputs = model.Graph.Node.Where(n => n.OpType == "Conv").Select(n => n.Output[0]);
        Assert.That(convOutputs, Is.SubsetOf(result.Ranges.Keys));
        Assert.That(result.Uncalibrated, Is.Empty);
        TensorRange softmax = result.Ranges["softmax_0.tmp_0"];
        Assert.That(softmax.Min, Is.GreaterThanOrEqualTo(0f));
        Assert.That(softmax.Max, Is.LessThanOrEqualTo(1f));
        TensorRange input = result.Ranges["x"];
        Assert.That(input.Min, Is.GreaterThanOrEqualTo(-1f));
        Assert.That(input.Max, Is.LessThanOrEqualTo(1f));
        Assert.That(input.Max, Is.GreaterThan(input.Min));
    }

    [Test]
    public void SileroCalibratesTheBranchThatRanAndReportsTheOneThatNeverRan()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        CalibrationDataSet data = CalibrationDataSet.Open([SharedMaterial.DataPath("vad_calib.npz")], model, maxSamples: 32);
        CalibrationResult result = Calibrator.Calibrate(model, data, new CalibrationOptions());

        // Main graph: the float inputs and the If outputs; sr is int64 and the Equal output is bool.
        Assert.That(result.Ranges.Keys, Is.SupersetOf(SileroMainGraphFloats));
        TensorRange probability = result.Ranges["output"];
        Assert.That(probability.Min, Is.GreaterThanOrEqualTo(0f));
        Assert.That(probability.Max, Is.LessThanOrEqualTo(1f));

        var graph = new ModelGraph(model);
        NodeProto ifNode = graph.Main.Graph.Node.Single(n => n.OpType == "If");
        GraphScope thenScope = graph.Graphs.Single(g => g.Depth == 1 && g.AttributeName == "then_branch");
        GraphScope elseScope = graph.Graphs.Single(g => g.Depth == 1 && g.AttributeName == "else_branch");
        var byName = result.Uncalibrated.ToDictionary(u => u.Name);
        string thenConv = thenScope.Graph.Node.First(n => n.OpType == "Conv").Output[0];
        string elseConv = elseScope.Graph.Node.First(n => n.OpType == "Conv").Output[0];
        // The 16 kHz branch ran on every sample: it was inlined for calibration and its tensors have ranges.
        Assert.That(byName.ContainsKey(thenConv), Is.False);
        Assert.That(result.Ranges.ContainsKey(thenConv), Is.True);
        Assert.That(result.Uncalibrated.Where(u => u.Reason == UncalibratedReason.InsideSubgraph), Is.Empty, "every If here took one branch on all samples");
        // sr = 16000 makes Equal(sr, 16000) true on every sample, so the else (8 kHz) branch never runs.
        Assert.That(byName[elseConv].Reason, Is.EqualTo(UncalibratedReason.BranchNeverRan));
        Assert.That(byName[elseConv].Detail, Does.Contain(ifNode.Input[0]).And.Contain("always true"));

        // Nested If bodies (the LSTMs) inherit the reason of the top-level branch they sit in.
        GraphScope nestedElse = graph.Graphs.First(g => g.Depth == 2 && IsUnder(g, elseScope));
        string nestedTensor = nestedElse.Graph.Node.First(n => n.OpType != "Constant").Output[0];
        Assert.That(byName[nestedTensor].Reason, Is.EqualTo(UncalibratedReason.BranchNeverRan));
        int elseTensors = graph.Graphs.Where(g => IsUnder(g, elseScope)).Sum(g => g.Graph.Node.Where(n => n.OpType != "Constant").Sum(n => n.Output.Count(o => o.Length > 0)));
        Assert.That(result.Uncalibrated.Count(u => u.Detail.Contains("If_25", StringComparison.Ordinal)), Is.EqualTo(elseTensors));
    }

    private static bool IsUnder(GraphScope scope, GraphScope ancestor)
    {
        for (GraphScope? s = scope; s is not null; s = s.Parent)
        {
            if (s == ancestor)
            {
                return true;
            }
        }

        return false;
    }
}
