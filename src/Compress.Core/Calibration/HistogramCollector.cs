namespace Compress.Core.Calibration;

/// <summary>
/// ORT's HistogramCalibrater collector for one tensor: a histogram of x (Entropy, two-sided Percentile)
/// or of |x| (symmetric Percentile) merged batch by batch, plus the smallest and largest value seen.
/// </summary>
internal sealed class HistogramCollector : ITensorCollector
{
    private readonly CalibrationMethod _method;
    private readonly double _percentile;
    private readonly int _quantizedBins;
    private readonly SignedHistogram? _signed;
    private readonly AbsoluteHistogram? _absolute;
    private bool _seen;
    private double _min;
    private double _max;

    public HistogramCollector(CalibrationOptions options)
    {
        _method = options.Method;
        _percentile = options.Percentile;
        _quantizedBins = options.QuantizedBins;
        if (_method == CalibrationMethod.Percentile && options.EffectiveSymmetric)
        {
            _absolute = new AbsoluteHistogram(options.EffectiveHistogramBins, options.EffectiveMaxHistogramBins);
        }
        else
        {
            _signed = new SignedHistogram(options.EffectiveHistogramBins, options.EffectiveMaxHistogramBins);
        }
    }

    public void Add(ReadOnlySpan<float> values)
    {
        if (!ValueExtremes.TryGet(values, out float min, out float max))
        {
            return;
        }

        (_min, _max) = _seen ? (Math.Min(_min, min), Math.Max(_max, max)) : (min, max);
        _seen = true;
        _signed?.Add(values, min, max);
        _absolute?.Add(values, min, max);
    }

    public TensorRange? Compute()
    {
        if (!_seen)
        {
            return null;
        }

        if (_absolute is not null)
        {
            return PercentileRange.Symmetric(_absolute, _percentile, _min, _max);
        }

        return _method == CalibrationMethod.Entropy
            ? EntropyRange.Find(_signed!, _quantizedBins, _min, _max)
            : PercentileRange.TwoSided(_signed!, _percentile, _min, _max);
    }
}
