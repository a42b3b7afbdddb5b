namespace Compress.Core.Calibration;

/// <summary>
/// ORT's histogram of |x| (HistogramCollector.collect_absolute_value, used by symmetric Percentile):
/// bins of equal width from 0 up to the largest magnitude; a larger magnitude later adds bins of the
/// same width on the right. ORT starts the first histogram at the smallest |x| of the first batch and
/// drops later values below it; this one starts at 0 so no value is dropped. As in
/// <see cref="SignedHistogram"/>, bins are merged in pairs when growth would pass <c>maxBins</c>.
/// </summary>
internal sealed class AbsoluteHistogram
{
    private readonly int _initialBins;
    private readonly int _maxBins;
    private long[] _counts = [];
    private long _zerosBeforeWidth;

    public AbsoluteHistogram(int initialBins, int maxBins)
    {
        _initialBins = initialBins;
        _maxBins = maxBins;
    }

    /// <summary>True until a value other than 0 (or NaN) has been seen.</summary>
    public bool HasNoWidth => _counts.Length == 0;

    public int Bins => _counts.Length;

    /// <summary>Width of one bin.</summary>
    public double Width { get; private set; }

    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Number of zeros seen while every value was 0 (no bin width yet).</summary>
    public long ZeroCount => _zerosBeforeWidth;

    public double Edge(int index) => index * Width;

    /// <summary>Adds a batch whose non-NaN values lie in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public void Add(ReadOnlySpan<float> values, double min, double max)
    {
        double amax = Math.Min(Math.Max(Math.Abs(min), Math.Abs(max)), float.MaxValue);
        if (HasNoWidth)
        {
            if (amax == 0)
            {
                foreach (float v in values)
                {
                    _zerosBeforeWidth += float.IsNaN(v) ? 0 : 1;
                }

                return;
            }

            _counts = new long[_initialBins];
            Width = amax / _initialBins;
            _counts[0] = _zerosBeforeWidth;
        }
        else if (amax > Bins * Width)
        {
            Grow(amax);
        }

        int n = _counts.Length;
        double scale = 1 / Width;
        foreach (float v in values)
        {
            if (float.IsNaN(v))
            {
                continue;
            }

            double position = Math.Abs(v) * scale;
            _counts[position >= n ? n - 1 : (int)position]++;
        }
    }

    private void Grow(double amax)
    {
        double bins = Bins + Math.Ceiling((amax - (Bins * Width)) / Width);
        int shift = 0;
        while (Math.Ceiling(bins / Math.Pow(2, shift)) > _maxBins)
        {
            shift++;
        }

        var counts = new long[(int)Math.Ceiling(bins / Math.Pow(2, shift))];
        for (int i = 0; i < Bins; i++)
        {
            counts[shift >= 31 ? 0 : i >> shift] += _counts[i];
        }

        _counts = counts;
        Width *= Math.Pow(2, shift);
    }
}
