namespace Compress.Core.Calibration;

/// <summary>
/// ORT's histogram of real values (HistogramCollector.collect_value / merge_histogram): bins of equal
/// width over [−T, T], T the largest magnitude seen so far. When a batch exceeds T, ORT adds bins of
/// the same width on both sides; here, when that would pass <c>maxBins</c>, neighbouring bins are also
/// merged in pairs (aligned on 0) until the count fits, so memory stays fixed however far the range grows.
/// </summary>
internal sealed class SignedHistogram
{
    private readonly int _initialBins;
    private readonly int _maxBins;
    private long[] _counts = [];

    /// <param name="initialBins">Bins of the first batch's histogram (even, so 0 is a bin edge).</param>
    /// <param name="maxBins">Upper bound on the bins (at least twice <paramref name="initialBins"/>).</param>
    public SignedHistogram(int initialBins, int maxBins)
    {
        _initialBins = initialBins;
        _maxBins = maxBins;
    }

    public bool IsEmpty => _counts.Length == 0;

    public int Bins => _counts.Length;

    /// <summary>ORT's threshold T: the histogram spans [−T, T] (0 while every value seen was 0).</summary>
    public double Threshold { get; private set; }

    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Edge <paramref name="index"/> of Bins + 1 edges (numpy widens a zero range to ±0.5).</summary>
    public double Edge(int index)
    {
        double half = HalfRange;
        return -half + (index * (2 * half / Bins));
    }

    /// <summary>Adds a batch whose non-NaN values lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public void Add(ReadOnlySpan<float> values, double min, double max)
    {
        double t = Math.Min(Math.Max(Math.Abs(min), Math.Abs(max)), float.MaxValue);
        if (IsEmpty)
        {
            _counts = new long[_initialBins];
            Threshold = t;
        }
        else if (t > Threshold && Threshold == 0)
        {
            // ORT: histogram the new batch with the same bins over [−t, t] and add the old counts bin by bin.
            Threshold = t;
        }
        else if (t > Threshold)
        {
            Grow(t);
        }

        Accumulate(values, _counts, HalfRange);
    }

    private double HalfRange => Threshold == 0 ? 0.5 : Threshold;

    private void Grow(double t)
    {
        double stride = 2 * Threshold / Bins;
        double added = Math.Floor((t - Threshold) / stride) + 1;
        double half = (Bins / 2) + added;
        int shift = 0;
        while (2 * Math.Ceiling(half / Math.Pow(2, shift)) > _maxBins)
        {
            shift++;
        }

        int newHalf = (int)Math.Ceiling(half / Math.Pow(2, shift));
        var counts = new long[2 * newHalf];
        int oldHalf = Bins / 2;
        for (int i = 0; i < Bins; i++)
        {
            // Bins are merged outwards from 0 so that 0 stays an edge.
            int target = i >= oldHalf
                ? newHalf + Shift(i - oldHalf, shift)
                : newHalf - 1 - Shift(oldHalf - 1 - i, shift);
            counts[target] += _counts[i];
        }

        _counts = counts;
        Threshold = newHalf * stride * Math.Pow(2, shift);
    }

    private static int Shift(int index, int shift) => shift >= 31 ? 0 : index >> shift;

    private static void Accumulate(ReadOnlySpan<float> values, long[] counts, double half)
    {
        int n = counts.Length;
        double scale = n / (2 * half);
        foreach (float v in values)
        {
            if (float.IsNaN(v))
            {
                continue;
            }

            double position = (v + half) * scale;
            int index = position >= n ? n - 1 : position <= 0 ? 0 : (int)position;
            counts[index]++;
        }
    }
}
