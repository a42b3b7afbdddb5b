using System.Text.Json.Nodes;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;
using Compress.Runtime.Data;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Evaluation;

/// <summary>
/// <c>tune_quantization: true</c>: tuning first tries the other settings of the static quantize passes (calibration
/// method, range symmetry, weight granularity) and holds layers back only when none meets the budget. digits-mlp
/// calibrated with symmetric min/max ranges loses 2.7 points on its 450 test samples (uint8 activations after ReLU use
/// half their codes); every other calibration loses none.
/// </summary>
public sealed class QuantizationTuningTests
{
    private static readonly string[] Alternatives =
    [
        "minmax, asymmetric, per-tensor", "percentile, asymmetric, per-tensor", "entropy, asymmetric, per-tensor",
        "percentile, symmetric, per-tensor", "entropy, symmetric, per-tensor",
    ];

    private static string Spec(bool tuneQuantization, int topK = 5) => EvaluationWorkspace.DigitsSpec(
        $"{{ mode: static, calibration: {{ data: {EvaluationWorkspace.SharedPath(TestPaths.SharedData("digits_calib_x.npy"))}, method: minmax, symmetric: true }} }}",
        $"max_accuracy_drop: 0.0\non_failure: tune\ntune_quantization: {(tuneQuantization ? "true" : "false")}\ntop_k: {topK}");

    [Test]
    public void SettingsThatMeetTheBudgetKeepEveryLayerInInt8()
    {
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(Spec(tuneQuantization: true));

        JsonObject report = ReadReport(workspace);
        JsonNode evaluation = report["evaluation"]!;
        JsonArray steps = report["tuning"]!.AsArray();
        ModelProto written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.onnx")));
        string markdown = File.ReadAllText(Path.Combine(workspace.Output, "digits.report.md"));
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
            Assert.That(evaluation["after_untuned"]!["accuracy"]!.GetValue<double>(), Is.LessThan(evaluation["before"]!["accuracy"]!.GetValue<double>() - 0.01),
                "the written calibration must lose accuracy, else this test proves nothing");
            Assert.That(steps.Select(s => s!["quantization"]?.GetValue<string>()), Is.EqualTo(Alternatives), "the five other calibrations with the written per-tensor weights, one step each; per-channel weights and the layer search are not needed once one meets the budget");
            Assert.That(steps.Count(s => s!["kept"]!.GetValue<bool>()), Is.EqualTo(1), "one setting is chosen");
            JsonNode chosen = steps.Single(s => s!["kept"]!.GetValue<bool>())!;
            Assert.That(chosen["passed"]!.GetValue<bool>(), Is.True);
            Assert.That(steps.Where(s => s!["passed"]!.GetValue<bool>()).Min(s => s!["metric"]!["relative_error"]!.GetValue<double>()),
                Is.EqualTo(chosen["metric"]!["relative_error"]!.GetValue<double>()), "of the settings that meet the budget, the closest to the original");
            string[] choice = chosen["quantization"]!.GetValue<string>().Split(", ");
            Assert.That(evaluation["tuned_quantization"]!["method"]!.GetValue<string>(), Is.EqualTo(choice[0]));
            Assert.That(evaluation["tuned_quantization"]!["symmetric"]!.GetValue<bool>(), Is.EqualTo(choice[1] == "symmetric"));
            Assert.That(evaluation["tuned_quantization"]!["per_channel"]!.GetValue<bool>(), Is.EqualTo(choice[2] == "per-channel"));
            Assert.That(evaluation["kept_at_higher_precision"]!.AsArray(), Is.Empty, "no layer left in float");
            Assert.That(written.Graph.Node.Count(n => n.OpType == "Gemm"), Is.EqualTo(3));
            Assert.That(written.Graph.Initializer.Count(t => t.DataType == (int)TensorProto.Types.DataType.Int8 && t.Dims.Count == 2), Is.EqualTo(3), "all three Gemm weights are int8");
            Assert.That(markdown, Does.Contain($"Quantization settings chosen by tuning for the static quantize passes: **{chosen["quantization"]!.GetValue<string>()}**."));
            Assert.That(markdown, Does.Contain($"| settings: {chosen["quantization"]!.GetValue<string>()} |"));
            Assert.That(markdown, Does.Contain("| step | kept in float / settings tried |"));
            Assert.That(TuningDecisionCacheTests.SchemaErrors(report), Is.Empty, "the report validates against docs/report-schema.json");
        });

        // Measured here, not read from the report: the written model keeps every label the original gets right.
        Assert.That(TestAccuracy(written), Is.EqualTo(TestAccuracy(Compress.Core.Onnx.OnnxModelFile.Load(TestPaths.SharedModel("digits-mlp")))));
    }

    [Test]
    public void WithoutItTuningHoldsLayersBackUnderTheWrittenSettings()
    {
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(Spec(tuneQuantization: false));

        JsonObject report = ReadReport(workspace);
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
            Assert.That(report["evaluation"]!["tuned_quantization"], Is.Null);
            Assert.That(report["evaluation"]!["kept_at_higher_precision"]!.AsArray(), Is.Not.Empty);
            Assert.That(report["tuning"]!.AsArray().Select(s => s!["quantization"]), Has.All.Null);
        });
    }

    [Test]
    public void ASecondBuildReusesTheChosenSettingsWithOneEvaluation()
    {
        using var workspace = new EvaluationWorkspace();
        string cache = Path.Combine(workspace.Root, "cache");

        PipelineResult first = workspace.Run(Spec(tuneQuantization: true), cacheDirectories: cache);
        byte[] firstModel = File.ReadAllBytes(Path.Combine(workspace.Output, "digits.onnx"));
        JsonNode firstEvaluation = ReadReport(workspace)["evaluation"]!;
        // top_k is part of the output cache key, not of the tuning decisions' key: the second build evaluates again.
        PipelineResult second = workspace.Run(Spec(tuneQuantization: true, topK: 3), cacheDirectories: cache);

        JsonNode secondEvaluation = ReadReport(workspace)["evaluation"]!;
        Assert.Multiple(() =>
        {
            Assert.That(first.Succeeded && second.Succeeded, Is.True, string.Join("\n", first.Diagnostics.Concat(second.Diagnostics)));
            Assert.That(firstEvaluation["tuning_decisions"]!["status"]!.GetValue<string>(), Is.EqualTo("stored"));
            Assert.That(secondEvaluation["tuning_decisions"]!["status"]!.GetValue<string>(), Is.EqualTo("reused"));
            Assert.That(secondEvaluation["evaluations"]!.GetValue<int>(), Is.EqualTo(2), "untuned + the cached decision");
            Assert.That(secondEvaluation["tuned_quantization"]!.ToJsonString(), Is.EqualTo(firstEvaluation["tuned_quantization"]!.ToJsonString()));
            Assert.That(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.onnx")), Is.EqualTo(firstModel));
        });
    }

    private static double TestAccuracy(ModelProto model)
    {
        float[] x = NpyArray.Load(TestPaths.SharedData("digits_test_x.npy")).ToSingleArray();
        long[] labels = NpyArray.Load(TestPaths.SharedData("digits_test_y.npy")).ToInt64Array();
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
        using var input = OrtValue.CreateTensorValueFromMemory(x, [labels.Length, 64]);
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(new RunOptions(), [session.InputNames[0]], [input], session.OutputNames);
        ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
        int classes = logits.Length / labels.Length, correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            ReadOnlySpan<float> row = logits.Slice(i * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                best = row[c] > row[best] ? c : best;
            }

            correct += best == labels[i] ? 1 : 0;
        }

        return (double)correct / labels.Length;
    }

    private static JsonObject ReadReport(EvaluationWorkspace workspace) =>
        JsonNode.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.report.json")))!.AsObject();
}
