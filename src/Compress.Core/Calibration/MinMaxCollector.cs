namespace Compress.Core.Calibration;

/// <summary>
/// ORT's MinMaxCalibrater: global minimum and maximum, or with moving average
/// <c>old + c·(new − old)</c> of the per-batch minimum and maximum (the first batch starts the average).
/// Each batch is one averaging step, as when ORT's collect_data is called once per batch.
/// Symmetric: [−m, m] with m the larger magnitude.
/// </summary>
internal sealed class MinMaxCollector(bool movingAverage, double averagingConstant, bool symmetric) : ITensorCollector
{
    private bool _seen;
    private double _min;
    private double _max;

    public void Add(ReadOnlySpan<float> values)
    {
        if (!ValueExtremes.TryGet(values, out float min, out float max))
        {
            return;
        }

        if (!_seen)
        {
            (_min, _max, _seen) = (min, max, true);
        }
        else if (movingAverage)
        {
            _min += averagingConstant * (min - _min);
            _max += averagingConstant * (max - _max);
        }
        else
        {
            _min = Math.Min(_min, min);
            _max = Math.Max(_max, max);
        }
    }

    public TensorRange? Compute()
    {
        if (!_seen)
        {
            return null;
        }

        if (symmetric)
        {
            float m = (float)Math.Max(Math.Abs(_min), Math.Abs(_max));
            return new TensorRange(-m, m);
        }

        return new TensorRange((float)_min, (float)_max);
    }
}
