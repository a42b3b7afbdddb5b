namespace Compress.Core.Calibration;

/// <summary>
/// ORT's HistogramCollector.compute_percentile: the cumulative distribution of the histogram is
/// searched (numpy searchsorted, left) for the percentile and the range is the edge found there,
/// clipped to the smallest and largest value seen.
/// </summary>
internal static class PercentileRange
{
    /// <summary>Symmetric: the percentile of |x| gives t, the range is [−t, t] clipped.</summary>
    public static TensorRange Symmetric(AbsoluteHistogram histogram, double percentile, double min, double max)
    {
        if (histogram.HasNoWidth)
        {
            return Clip(0, 0, min, max);
        }

        int index = SearchSorted(histogram.Counts, percentile / 100.0);
        double t = histogram.Edge(index);
        return Clip(-t, t, min, max);
    }

    /// <summary>Two-sided: (100 − p)/2 % is cut off each tail.</summary>
    public static TensorRange TwoSided(SignedHistogram histogram, double percentile, double min, double max)
    {
        double cut = (100.0 - percentile) / 200.0;
        int right = SearchSorted(histogram.Counts, 1.0 - cut);
        int left = SearchSorted(histogram.Counts, cut);
        return Clip(histogram.Edge(left), histogram.Edge(right), min, max);
    }

    /// <summary>First index whose cumulative share (cumsum(hist / total)) reaches <paramref name="target"/>; Bins when none does.</summary>
    private static int SearchSorted(ReadOnlySpan<long> counts, double target)
    {
        double total = 0;
        foreach (long c in counts)
        {
            total += c;
        }

        double cumulative = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            cumulative += counts[i] / total;
            if (cumulative >= target)
            {
                return i;
            }
        }

        return counts.Length;
    }

    private static TensorRange Clip(double low, double high, double min, double max) =>
        new((float)Math.Max(low, min), (float)Math.Min(high, max));
}
