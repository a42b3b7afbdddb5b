namespace Compress.Runtime.Tests;

public class BatchTests
{
    [Test]
    public void BatchesOf64GiveTheWholeBatchResultWithin1e5()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        float[] whole = model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features]).ToArray<float>();
        var batched = new float[Digits.Rows * Digits.Classes];

        // 450 rows = 7 batches of 64 and one of 2.
        int count = model.RunBatches(Digits.X.AsSpan<float>(), batched, batchSize: 64);

        Assert.That(count, Is.EqualTo(450));
        Assert.That(batched, Is.EqualTo(whole).Within(1e-5f));
    }

    [Test]
    public void OutputBufferMustHoldOneOutputPerSample()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);

        var e = Assert.Throws<ArgumentException>(() => model.RunBatches(Digits.X.AsSpan<float>().Slice(0, 3 * 64), new float[29], 2));

        Assert.That(e!.Message, Does.Contain("3 samples of model 'digits-mlp' give 3 x 10 = 30"));
    }

    [Test]
    public void PartialSampleIsRejected()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);

        var e = Assert.Throws<CompressedModelException>(() => model.RunBatches(new float[100], new float[10], 8));

        Assert.That(e!.Message, Does.Contain("100 input elements are not a whole number of samples of 64 elements"));
    }
}
