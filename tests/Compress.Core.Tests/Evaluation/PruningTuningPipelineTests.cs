using System.Text.Json;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;

namespace Compress.Core.Tests.Evaluation;

/// <summary>
/// <c>on_failure: tune</c> with prune passes: tuning leaves the most sensitive layers unpruned, the others keep the
/// pruning as written, and only layers the pass really prunes are candidates.
/// digits-mlp (Gemm 64→256→128→10) on its 450 test samples with labels.
/// </summary>
public sealed class PruningTuningPipelineTests
{
    private static readonly string[] Gemms = ["/f1/Gemm", "/f2/Gemm", "/f3/Gemm"];

    private static readonly string[] HiddenGemms = ["/f1/Gemm", "/f2/Gemm"];

    [Test]
    public void MagnitudeTuningKeepsTheSensitiveLayersDenseAndTheRestAtTheirSparsity()
    {
        using var workspace = new EvaluationWorkspace();

        (PipelineResult result, ModelProto written, JsonElement report) = RunTuned(workspace, Spec("{ method: magnitude, sparsity: 0.8 }", reconstruct: true));

        ModelProto original = OnnxModelFile.Load(TestPaths.SharedModel("digits-mlp"));
        JsonElement evaluation = report.GetProperty("evaluation");
        string[] kept = Kept(evaluation);
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
            Assert.That(Accuracy(evaluation, "after_untuned"), Is.LessThan(Accuracy(evaluation, "before")), "80 % sparsity must lose accuracy, else this test proves nothing");
            Assert.That(Accuracy(evaluation, "after"), Is.GreaterThanOrEqualTo(Accuracy(evaluation, "before")), "max_accuracy_drop: 0.0 holds after tuning");
            Assert.That(kept, Is.Not.Empty.And.Length.LessThan(3), "some layer stays pruned");
            Assert.That(evaluation.GetProperty("layer_sensitivity").GetArrayLength(), Is.EqualTo(3), "magnitude pruning prunes all three Gemm");
            foreach (string gemm in Gemms)
            {
                float[] before = Weight(original, gemm), after = Weight(written, gemm);
                if (kept.Contains(gemm))
                {
                    Assert.That(after, Is.EqualTo(before), $"{gemm} kept unpruned: the original weights, not refitted");
                }
                else
                {
                    Assert.That(after.Count(w => w == 0), Is.EqualTo((int)Math.Round(0.8 * after.Length)).Within(1), $"{gemm} keeps the sparsity as written");
                }
            }

            string markdown = File.ReadAllText(Path.Combine(workspace.Output, "digits.report.md"));
            Assert.That(markdown, Does.Contain("Layers kept unpruned: " + string.Join(", ", kept.Select(k => $"`{k}`"))));
            Assert.That(markdown, Does.Contain("| step | kept unpruned |"));
        });
    }

    [Test]
    public void StructuredTuningConsidersOnlyTheLayersThePassPrunesAndKeepsTheirShapes()
    {
        using var workspace = new EvaluationWorkspace();

        (PipelineResult result, ModelProto written, JsonElement report) = RunTuned(workspace, Spec("{ method: structured, ratio: 0.75 }", reconstruct: true));

        ModelProto original = OnnxModelFile.Load(TestPaths.SharedModel("digits-mlp"));
        JsonElement evaluation = report.GetProperty("evaluation");
        string[] kept = Kept(evaluation);
        string[] measured = [.. evaluation.GetProperty("layer_sensitivity").EnumerateArray().Select(s => s.GetProperty("node").GetString()!)];
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
            Assert.That(Accuracy(evaluation, "after_untuned"), Is.LessThan(Accuracy(evaluation, "before")), "a 75 % cut must lose accuracy, else this test proves nothing");
            Assert.That(Accuracy(evaluation, "after"), Is.GreaterThanOrEqualTo(Accuracy(evaluation, "before")));
            // /f3/Gemm writes the graph output, so structured pruning skips it: measuring it would cost a run for nothing.
            Assert.That(measured, Is.EquivalentTo(HiddenGemms));
            Assert.That(kept, Is.Not.Empty.And.Length.LessThan(2));
            string pruned = measured.Single(m => !kept.Contains(m));
            Assert.That(Rows(written, kept[0]), Is.EqualTo(Rows(original, kept[0])), "the kept layer keeps all its outputs");
            Assert.That(Rows(written, pruned), Is.LessThan(Rows(original, pruned)), "the other layer is still pruned");
        });
    }

    [Test]
    public void APruneThenQuantizeScheduleTunesBothPassesByLayer()
    {
        using var workspace = new EvaluationWorkspace();

        (PipelineResult result, _, JsonElement report) = RunTuned(workspace, Spec("{ method: magnitude, sparsity: 0.9 }", reconstruct: false, "quantize: { mode: dynamic }"));

        JsonElement evaluation = report.GetProperty("evaluation");
        string markdown = File.ReadAllText(Path.Combine(workspace.Output, "digits.report.md"));
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
            Assert.That(evaluation.GetProperty("layer_sensitivity").EnumerateArray().Select(s => s.GetProperty("node").GetString()), Is.EquivalentTo(Gemms), "one candidate per layer, whichever passes change it");
            Assert.That(markdown, Does.Contain("| step | kept as in the original |"));
            Assert.That(markdown, Does.Contain("Layers kept as in the original: "));
        });
    }

    [Test]
    public void AMaskIouBudgetIsTunedLikeAnyOtherAndItsColumnShowsInTheSteps()
    {
        // The mask "logit ≥ 0" stands in for a detector's probability map: the budget is on its IoU with the original's.
        using var workspace = new EvaluationWorkspace();

        (PipelineResult result, _, JsonElement report) = RunTuned(workspace, Spec("{ method: magnitude, sparsity: 0.8 }", reconstruct: true, budget: "min_mask_iou: 0.99\nthreshold: 0.0"));

        JsonElement evaluation = report.GetProperty("evaluation");
        double[] stepIous = [.. report.GetProperty("tuning").EnumerateArray().Select(s => s.GetProperty("metric").GetProperty("mask_iou").GetDouble())];
        string markdown = File.ReadAllText(Path.Combine(workspace.Output, "digits.report.md"));
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
            Assert.That(evaluation.GetProperty("after_untuned").GetProperty("mask_iou").GetDouble(), Is.LessThan(0.99), "the untuned model misses the budget, else this test proves nothing");
            Assert.That(evaluation.GetProperty("after").GetProperty("mask_iou").GetDouble(), Is.GreaterThanOrEqualTo(0.99));
            Assert.That(markdown, Does.Contain("| accuracy drop | agreement | mask IoU | relative error |"));
            foreach (double iou in stepIous)
            {
                Assert.That(markdown, Does.Contain($"| {iou.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)} |"), "each step's mask IoU is in its row");
            }
        });
    }

    private static string Spec(string prune, bool reconstruct, string? more = null, string budget = "max_accuracy_drop: 0.0")
    {
        List<string> passes = [$"prune: {prune}"];
        if (reconstruct)
        {
            passes.Add($"reconstruct: {{ data: {EvaluationWorkspace.SharedPath(TestPaths.SharedData("digits_calib_x.npy"))} }}");
        }

        if (more is not null)
        {
            passes.Add(more);
        }

        return EvaluationWorkspace.DigitsSpec(passes, budget + "\non_failure: tune");
    }

    /// <summary>Runs the spec; returns the written model and the report (detached from its document).</summary>
    private static (PipelineResult Result, ModelProto Written, JsonElement Report) RunTuned(EvaluationWorkspace workspace, string spec)
    {
        PipelineResult result = workspace.Run(spec);
        string model = Path.Combine(workspace.Output, "digits.onnx");
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.report.json")));
        return (result, File.Exists(model) ? OnnxModelFile.Load(model) : new ModelProto(), report.RootElement.Clone());
    }

    private static string[] Kept(JsonElement evaluation) => [.. evaluation.GetProperty("kept_at_higher_precision").EnumerateArray().Select(e => e.GetString()!)];

    private static double Accuracy(JsonElement evaluation, string key) => evaluation.GetProperty(key).GetProperty("accuracy").GetDouble();

    private static TensorProto WeightTensor(ModelProto model, string gemm)
    {
        NodeProto node = model.Graph.Node.Single(n => n.Name == gemm);
        return model.Graph.Initializer.Single(i => i.Name == node.Input[1]);
    }

    private static float[] Weight(ModelProto model, string gemm) => TensorData.ReadFloats(WeightTensor(model, gemm));

    /// <summary>Output neurons of a Gemm with transB = 1 (weight [out, in]).</summary>
    private static long Rows(ModelProto model, string gemm) => WeightTensor(model, gemm).Dims[0];
}
