using Compress.Core.Diagnostics;
using Compress.Core.Evaluation;

namespace Compress.Core.Tests.Evaluation;

/// <summary>The metrics on small cases computed by hand.</summary>
public sealed class OutputComparisonTests
{
    private static CollectedOutput Output(int samples, params float[] values) =>
        new("y", values, samples, [values.Length / samples]);

    [Test]
    public void CosineIsComputedPerSampleAndAveraged()
    {
        // Sample 0: (1,0)·(1,1) / (1·√2) = 1/√2. Sample 1: (0,2) vs (0,3), same direction → 1.
        CollectedOutput reference = Output(2, 1, 0, 0, 2);
        CollectedOutput candidate = Output(2, 1, 1, 0, 3);

        EvaluationResult result = OutputComparison.Compare(reference, candidate, labels: null, topK: 1);

        double expected = (1 / Math.Sqrt(2) + 1) / 2;
        Assert.That(result.After.Cosine, Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void OneValueOutputsAreBinaryDecisionsAtTheThreshold()
    {
        // [N, 1] probabilities. Decisions at 0.5: reference 1, 0, 1, 0; candidate 1, 1, 0, 0.
        var reference = new CollectedOutput("p", [0.9f, 0.2f, 0.5f, 0.1f], 4, [1]);
        var candidate = new CollectedOutput("p", [0.8f, 0.6f, 0.4f, 0.3f], 4, [1]);
        long[] labels = [1, 0, 1, 0];

        EvaluationResult result = OutputComparison.Compare(reference, candidate, labels, topK: 5);

        // Counted by hand: the reference is right on all 4; the candidate on samples 0 and 3, which are also the ones it agrees on.
        Assert.That(result.Classes, Is.EqualTo(2));
        Assert.That(result.TopK, Is.EqualTo(1));
        Assert.That(result.Before.Accuracy, Is.EqualTo(1.0));
        Assert.That(result.After.Accuracy, Is.EqualTo(0.5));
        Assert.That(result.After.Agreement, Is.EqualTo(0.5));
        Assert.That(result.AccuracyDrop, Is.EqualTo(0.5));

        // At 0.35 the reference still decides 1, 0, 1, 0 and the candidate 1, 1, 1, 0: right (and agreeing) on 0, 2, 3.
        EvaluationResult lower = OutputComparison.Compare(reference, candidate, labels, topK: 5, threshold: 0.35);
        Assert.That(lower.After.Accuracy, Is.EqualTo(0.75));
        Assert.That(lower.After.Agreement, Is.EqualTo(0.75));
    }

    [Test]
    public void ZeroVectorsAreIdenticalOnlyToZeroVectors()
    {
        Assert.Multiple(() =>
        {
            Assert.That(OutputComparison.Cosine([0, 0], [0, 0]), Is.EqualTo(1));
            Assert.That(OutputComparison.Cosine([0, 0], [1, 0]), Is.EqualTo(0));
            Assert.That(OutputComparison.Cosine([1, 2], [-1, -2]), Is.EqualTo(-1).Within(1e-12));
        });
    }

    [Test]
    public void ErrorsAreAbsoluteMeanAndRelativeL2()
    {
        // Differences: 0, 1, 0, -2 → max 2, mean 3/4; ‖Δ‖² = 5, ‖ref‖² = 1 + 0 + 0 + 4 = 5 → relative 1.
        EvaluationResult result = OutputComparison.Compare(Output(2, 1, 0, 0, 2), Output(2, 1, 1, 0, 0), null, 1);

        Assert.Multiple(() =>
        {
            Assert.That(result.After.MaxAbsError, Is.EqualTo(2).Within(1e-12));
            Assert.That(result.After.MeanAbsError, Is.EqualTo(0.75).Within(1e-12));
            Assert.That(result.After.RelativeError, Is.EqualTo(1).Within(1e-12));
            Assert.That(result.Before.RelativeError, Is.Zero);
        });
    }

    [Test]
    public void AccuracyTopKAndAgreementCountSamples()
    {
        // 3 classes, 4 samples. Original argmax: 0, 1, 2, 2. Compressed argmax: 0, 2, 2, 1.
        CollectedOutput reference = Output(4, 0.9f, 0.1f, 0, 0.1f, 0.8f, 0.1f, 0, 0.2f, 0.8f, 0.3f, 0.1f, 0.6f);
        CollectedOutput candidate = Output(4, 0.9f, 0.1f, 0, 0.1f, 0.4f, 0.5f, 0, 0.2f, 0.8f, 0.2f, 0.7f, 0.1f);
        long[] labels = [0, 1, 2, 0];

        EvaluationResult result = OutputComparison.Compare(reference, candidate, labels, topK: 2);

        Assert.Multiple(() =>
        {
            Assert.That(result.Classes, Is.EqualTo(3));
            Assert.That(result.Before.Accuracy, Is.EqualTo(3 / 4.0), "original right on samples 0, 1, 2");
            Assert.That(result.After.Accuracy, Is.EqualTo(2 / 4.0), "compressed right on samples 0, 2");
            Assert.That(result.After.Agreement, Is.EqualTo(2 / 4.0), "same argmax on samples 0, 2");
            Assert.That(result.AccuracyDrop, Is.EqualTo(1 / 4.0));
            // Top-2: original sample 3 ranks class 0 second (0.3 > 0.1) → 4/4; compressed sample 3 ranks 0 second (0.2 > 0.1) → 4/4.
            Assert.That(result.Before.TopKAccuracy, Is.EqualTo(1.0));
            Assert.That(result.After.TopKAccuracy, Is.EqualTo(1.0));
        });
    }

    [Test]
    public void WithoutLabelsTheDropIsOneMinusAgreement()
    {
        EvaluationResult result = OutputComparison.Compare(Output(2, 1, 0, 1, 0), Output(2, 1, 0, 0, 1), null, 1);

        Assert.Multiple(() =>
        {
            Assert.That(result.After.Agreement, Is.EqualTo(0.5));
            Assert.That(result.AccuracyDrop, Is.EqualTo(0.5));
            Assert.That(result.After.Accuracy, Is.Null);
        });
    }

    [Test]
    public void LabelsOnANonClassificationOutputAreCmp2003()
    {
        // [N, 2, 2]: a map per sample, neither class scores nor one probability.
        var reference = new CollectedOutput("map", [0.1f, 0.9f, 0.2f, 0.3f, 0.1f, 0.9f, 0.2f, 0.3f], 2, [2, 2]);

        var e = Assert.Throws<CompressException>(() => OutputComparison.Compare(reference, reference, [0, 1], 1));
        Assert.That(e!.Diagnostic.Code, Is.EqualTo(DiagnosticCodes.EvaluationDataInvalid));
    }

    [Test]
    public void MaskIouIsMeasuredPerSampleAtTheThresholdOnlyWhenAsked()
    {
        // Two 2x2 maps. Sample 0: original mask {0, 1}, compressed {1, 2}: 1 shared of 3 -> 1/3. Sample 1: both
        // masks empty -> 1 (they agree). Mean 2/3. An element exactly at the threshold is in the mask.
        var reference = new CollectedOutput("map", [0.9f, 0.3f, 0.1f, 0.0f, 0.1f, 0.2f, 0.0f, 0.0f], 2, [2, 2]);
        var candidate = new CollectedOutput("map", [0.2f, 0.8f, 0.5f, 0.0f, 0.2f, 0.1f, 0.0f, 0.29f], 2, [2, 2]);

        EvaluationResult withIou = OutputComparison.Compare(reference, candidate, null, 1, threshold: 0.3, maskIou: true);
        EvaluationResult without = OutputComparison.Compare(reference, candidate, null, 1, threshold: 0.3);

        Assert.Multiple(() =>
        {
            Assert.That(withIou.After.MaskIou, Is.EqualTo(2.0 / 3).Within(1e-12));
            Assert.That(withIou.Before.MaskIou, Is.EqualTo(1));
            Assert.That(without.After.MaskIou, Is.Null);
        });
    }
}
