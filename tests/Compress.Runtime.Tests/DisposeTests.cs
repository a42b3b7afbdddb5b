namespace Compress.Runtime.Tests;

public class DisposeTests
{
    [Test]
    public void EveryRunOverloadThrowsAfterDispose()
    {
        CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        var logits = new float[Digits.Classes];
        model.Run(Digits.Row(0), [1, Digits.Features], logits);

        model.Dispose();
        model.Dispose(); // a second Dispose is harmless

        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => model.Run(Digits.Row(0), [1, Digits.Features], logits));
            Assert.Throws<ObjectDisposedException>(() => model.Run(Digits.Row(0), [1, Digits.Features]));
            Assert.Throws<ObjectDisposedException>(() => model.Run([ModelInput.Create("input", new float[64], 1, 64)]));
            Assert.Throws<ObjectDisposedException>(() => model.Run(System.Numerics.Tensors.Tensor.Create(new float[64], [1, 64])));
        });
    }

    [Test]
    public void OutputsOutliveTheModel()
    {
        ModelOutput output;
        using (CompressedModel model = CompressedModel.Load(Digits.ModelPath))
        {
            output = model.Run(Digits.Row(0), [1, Digits.Features]);
        }

        Assert.That(output.AsSpan<float>().ToArray(), Has.Length.EqualTo(10).And.Some.Not.Zero);
    }
}
