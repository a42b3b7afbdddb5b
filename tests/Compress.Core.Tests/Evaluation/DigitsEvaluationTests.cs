using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Runtime.Data;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Evaluation;

/// <summary>The evaluator against an independent count on the shared digits model and test set.</summary>
public sealed class DigitsEvaluationTests
{
    private static EvaluationData DigitsData => new()
    {
        DataPaths = [TestPaths.SharedData("digits_test_x.npy")],
        LabelsPath = TestPaths.SharedData("digits_test_y.npy"),
        BatchSize = 100,
    };

    [Test]
    public void AccuracyEqualsACountOfOrtPredictionsAgainstTheLabels()
    {
        // Independent count: one ORT session on the whole [450, 64] array, argmax by hand.
        NpyArray x = NpyArray.Load(TestPaths.SharedData("digits_test_x.npy"));
        long[] y = NpyArray.Load(TestPaths.SharedData("digits_test_y.npy")).ToInt64Array();
        using var session = new InferenceSession(TestPaths.SharedModel("digits-mlp"));
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(x.ToSingleArray(), [.. x.Shape]);
        using var run = new RunOptions();
        using var outputs = session.Run(run, ["input"], [input], ["logits"]);
        ReadOnlySpan<float> logits = outputs[0].GetTensorDataAsSpan<float>();
        int correct = 0;
        for (int i = 0; i < y.Length; i++)
        {
            ReadOnlySpan<float> row = logits.Slice(i * 10, 10);
            int best = 0;
            for (int c = 1; c < 10; c++)
            {
                best = row[c] > row[best] ? c : best;
            }

            correct += best == y[i] ? 1 : 0;
        }

        ModelProto model = OnnxModelFile.Load(TestPaths.SharedModel("digits-mlp"));
        EvaluationResult result = EvaluationReference.Create(model, DigitsData).Evaluate(model);

        Assert.Multiple(() =>
        {
            Assert.That(result.Samples, Is.EqualTo(y.Length));
            Assert.That(result.Before.Accuracy, Is.EqualTo((double)correct / y.Length));
            Assert.That(result.After.Accuracy, Is.EqualTo((double)correct / y.Length));
            Assert.That(correct, Is.EqualTo(436), "the shared README's fp32 baseline: 436/450");
            Assert.That(result.After.Agreement, Is.EqualTo(1.0));
            Assert.That(result.After.Cosine, Is.EqualTo(1.0).Within(1e-12));
            Assert.That(result.After.MaxAbsError, Is.Zero);
            Assert.That(result.Output, Is.EqualTo("logits"));
        });
    }

    [Test]
    public void SampleLimitAndUnknownOutputAreHonoured()
    {
        ModelProto model = OnnxModelFile.Load(TestPaths.SharedModel("digits-mlp"));
        EvaluationData first50 = new() { DataPaths = DigitsData.DataPaths, MaxSamples = 50, BatchSize = 16 };
        EvaluationData badOutput = new() { DataPaths = DigitsData.DataPaths, OutputName = "nope" };

        Assert.Multiple(() =>
        {
            Assert.That(EvaluationReference.Create(model, first50).Output.SampleCount, Is.EqualTo(50));
            var e = Assert.Throws<Diagnostics.CompressException>(() => EvaluationReference.Create(model, badOutput));
            Assert.That(e!.Diagnostic.Code, Is.EqualTo("CMP2003"));
            Assert.That(e.Diagnostic.Message, Does.Contain("logits"));
        });
    }
}
