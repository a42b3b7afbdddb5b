using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Evaluation;

/// <summary>Frame accuracy of Silero VAD ([N, 1] speech probability, 0/1 labels) as a build-time metric and budget.</summary>
public sealed class BinaryOutputEvaluationTests
{
    [Test]
    public void SileroFrameAccuracyMatchesAnIndependentCountAndHoldsTheBudget()
    {
        string Shared(string file) => TestPaths.SharedData(file).Replace('\\', '/');
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: vad
                source: {TestPaths.SharedModel("silero-vad-v4").Replace('\\', '/')}
                passes:
                  - quantize:
                      mode: dynamic
                      op_types_to_quantize: [Conv, LSTM]
                evaluate:
                  data: {Shared("vad_test.npz")}
                  labels: {Shared("vad_test_y.npy")}
                  output: output
                  threshold: 0.5
                  batch_size: 1000
                  max_accuracy_drop: 0.005
            """);
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        EvaluationReportView evaluation = new(result.Models.Single().Evaluation!);

        // Counted directly from ONNX Runtime outputs of both models (p ≥ 0.5 is speech), all 1,000 steps in one
        // batch as the evaluation ran them (dynamic int8 scales activations per batch).
        NpzArchive test = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("vad_test_y.npy")).ToInt64Array();
        ModelProto written = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(workspace.Output, "vad.onnx")));
        double floatAccuracy = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(SharedMaterial.LoadModel("silero-vad-v4"), test, batch: 1000), labels);
        double quantAccuracy = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(written, test, batch: 1000), labels);
        TestContext.Out.WriteLine($"silero dynamic int8: frame accuracy fp32 {evaluation.Before:F4} int8 {evaluation.After:F4} (independent count {floatAccuracy:F4} / {quantAccuracy:F4})");

        Assert.That(floatAccuracy, Is.EqualTo(0.974).Within(1e-9), "../shared/README.md's fp32 baseline");
        Assert.That(evaluation.Before, Is.EqualTo(floatAccuracy).Within(1e-9));
        Assert.That(evaluation.After, Is.EqualTo(quantAccuracy).Within(1e-9));
        Assert.That(evaluation.Classes, Is.EqualTo(2));
        Assert.That(evaluation.After, Is.GreaterThanOrEqualTo(evaluation.Before - 0.005));
    }

    private sealed class EvaluationReportView(Core.Evaluation.EvaluationReport report)
    {
        public double Before => report.Before.Accuracy!.Value;

        public double After => report.After.Accuracy!.Value;

        public int? Classes => report.Classes;
    }
}
