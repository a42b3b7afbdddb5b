namespace Compress.Runtime.Tests;

public class ModelInputTests
{
    [Test]
    public void LengthMustMatchTheShape()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelInput.Create("x", new float[5], 2, 3));

        Assert.That(e!.Message, Does.Contain("has 5 elements but shape [2,3] needs 6"));
    }

    [Test]
    public void NegativeDimensionIsRejected()
    {
        Assert.Throws<ArgumentException>(() => ModelInput.Create("x", Array.Empty<float>(), -1, 0));
    }

    [Test]
    public void UnsupportedElementTypeIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelInput.Create("x", new decimal[1], 1));

        Assert.That(e!.Message, Does.Contain("Decimal"));
    }

    [Test]
    public void ScalarHasNoDimensionsAndOneElement()
    {
        ModelInput sr = ModelInput.Scalar("sr", 16000L);

        Assert.That(sr.Shape, Is.Empty);
        Assert.That(sr.ElementCount, Is.EqualTo(1));
        Assert.That(sr.ElementType, Is.EqualTo(ModelElementType.Int64));
        Assert.That(sr.ToString(), Is.EqualTo("sr: Int64[]"));
    }
}
