using Compress.Core.Calibration;

namespace Compress.Core.Tests.Calibration;

/// <summary>Histograms keep every value and a bounded number of bins however far the range grows.</summary>
[TestFixture]
public sealed class HistogramTests
{
    [Test]
    public void SignedHistogramGrowsWithoutPassingItsBinCap()
    {
        var histogram = new SignedHistogram(128, 512);
        long added = 0;
        float largest = 0;
        var random = new Random(3);
        for (int batch = 0; batch < 40; batch++)
        {
            // The magnitude grows a thousandfold over the batches.
            float scale = MathF.Pow(1.2f, batch);
            float[] values = Enumerable.Range(0, 1000).Select(_ => (float)((random.NextDouble() * 2) - 1) * scale).ToArray();
            histogram.Add(values, values.Min(), values.Max());
            added += values.Length;
            largest = Math.Max(largest, values.Max(Math.Abs));
            Assert.That(histogram.Bins, Is.LessThanOrEqualTo(512));
            Assert.That(histogram.Bins % 2, Is.Zero, "0 stays a bin edge");
        }

        long total = 0;
        foreach (long count in histogram.Counts)
        {
            total += count;
        }

        Assert.That(total, Is.EqualTo(added));
        Assert.That(histogram.Threshold, Is.GreaterThanOrEqualTo(largest));
        Assert.That(histogram.Edge(histogram.Bins / 2), Is.EqualTo(0).Within(1e-9));
    }

    [Test]
    public void AbsoluteHistogramGrowsWithoutPassingItsBinCap()
    {
        var histogram = new AbsoluteHistogram(256, 1024);
        long added = 0;
        for (int batch = 1; batch <= 30; batch++)
        {
            float[] values = Enumerable.Range(0, 500).Select(i => (i - 250f) * batch * batch).ToArray();
            histogram.Add(values, values.Min(), values.Max());
            added += values.Length;
            Assert.That(histogram.Bins, Is.LessThanOrEqualTo(1024));
            Assert.That(histogram.Bins * histogram.Width, Is.GreaterThanOrEqualTo(values.Max(Math.Abs)));
        }

        long total = 0;
        foreach (long count in histogram.Counts)
        {
            total += count;
        }

        Assert.That(total, Is.EqualTo(added));
    }
}
