namespace Compress.Core.Calibration;

/// <summary>
/// Settings of <see cref="Calibrator.Calibrate"/>. Defaults mirror onnxruntime.quantization's
/// calibrators (calibrate.py <c>create_calibrator</c>): MinMax without moving average, averaging
/// constant 0.01, Entropy with 128 bins and 128 quantized bins, Percentile with 2048 bins and
/// 99.999 %, symmetric ranges only for Percentile.
/// </summary>
public sealed class CalibrationOptions
{
    /// <summary>Default histogram bins of the Entropy method (ORT <c>num_bins</c>).</summary>
    public const int DefaultEntropyBins = 128;

    /// <summary>Default histogram bins of the Percentile method (ORT <c>num_bins</c>).</summary>
    public const int DefaultPercentileBins = 2048;

    /// <summary>How ranges are computed.</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>Use at most this many samples (the first ones, in data order); null uses all.</summary>
    public int? MaxSamples { get; init; }

    /// <summary>Samples per model run. A model whose batch axis is declared with a fixed size 1 always runs one sample at a time.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>MinMax only: exponential moving average of the per-batch minimum and maximum instead of the global extremes (ORT <c>CalibMovingAverage</c>).</summary>
    public bool MovingAverage { get; init; }

    /// <summary>MinMax with <see cref="MovingAverage"/>: weight of the newest batch, in [0, 1] (ORT <c>CalibMovingAverageConstant</c>).</summary>
    public double MovingAverageConstant { get; init; } = 0.01;

    /// <summary>Percentile method: the percentile to keep, in [0, 100] (ORT <c>CalibPercentile</c>).</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>
    /// Symmetric ranges (ORT <c>CalibTensorRangeSymmetric</c>); null takes ORT's default per method
    /// (true for Percentile, false otherwise). MinMax: the range becomes [-m, m] with m the largest
    /// magnitude. Percentile: the percentile is taken of |x| and the range is [-t, t] clipped to the
    /// values seen, as ORT does. Entropy: ORT's histogram is always centred on 0, so the flag changes nothing.
    /// </summary>
    public bool? SymmetricRange { get; init; }

    /// <summary>Initial histogram bins, an even number (ORT <c>CalibNumBins</c>); null: 128 for Entropy, 2048 for Percentile.</summary>
    public int? HistogramBins { get; init; }

    /// <summary>Entropy: number of quantized bins the KL search compares with (ORT <c>num_quantized_bins</c>, default 128).</summary>
    public int QuantizedBins { get; init; } = 128;

    /// <summary>
    /// Upper bound on the bins of one histogram, so memory stays fixed however far the range grows:
    /// when growth (ORT adds bins of the same width) would pass it, neighbouring bins are merged in
    /// pairs. Null: 2048 for Entropy (its search is quadratic in the bins), 8192 for Percentile.
    /// </summary>
    public int? MaxHistogramBins { get; init; }

    /// <summary>
    /// Tensors to calibrate; null: every tensor produced by a non-Constant node of the main graph
    /// plus the graph inputs, keeping the float (float32/float16) ones.
    /// </summary>
    public IReadOnlyList<string>? TensorNames { get; init; }

    /// <summary>ONNX Runtime intra-op threads for the calibration runs; 0 lets ORT choose.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Receives a report after each batch.</summary>
    public IProgress<CalibrationProgress>? Progress { get; init; }

    /// <summary>The symmetric flag in effect for <see cref="Method"/>.</summary>
    public bool EffectiveSymmetric => SymmetricRange ?? (Method == CalibrationMethod.Percentile);

    /// <summary>The initial histogram bins in effect for <see cref="Method"/>.</summary>
    public int EffectiveHistogramBins => HistogramBins ?? (Method == CalibrationMethod.Entropy ? DefaultEntropyBins : DefaultPercentileBins);

    /// <summary>The histogram bin cap in effect for <see cref="Method"/>.</summary>
    public int EffectiveMaxHistogramBins => MaxHistogramBins ?? Math.Max(2 * EffectiveHistogramBins, Method == CalibrationMethod.Entropy ? 2048 : 8192);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for values no calibrator accepts.</summary>
    public void Validate()
    {
        if (MaxSamples is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSamples), MaxSamples, "MaxSamples must be at least 1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        if (MovingAverageConstant is < 0 or > 1 || double.IsNaN(MovingAverageConstant))
        {
            throw new ArgumentOutOfRangeException(nameof(MovingAverageConstant), MovingAverageConstant, "The averaging constant must be in [0, 1].");
        }

        if (Percentile is < 0 or > 100 || double.IsNaN(Percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(Percentile), Percentile, "The percentile must be in [0, 100].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(EffectiveHistogramBins, 2, nameof(HistogramBins));
        if (EffectiveHistogramBins % 2 != 0)
        {
            // Histograms of x are centred on 0 with 0 on a bin edge, which needs an even count.
            throw new ArgumentOutOfRangeException(nameof(HistogramBins), EffectiveHistogramBins, "HistogramBins must be even.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(QuantizedBins, 2, nameof(QuantizedBins));
        if (Method == CalibrationMethod.Entropy && EffectiveHistogramBins < QuantizedBins)
        {
            throw new ArgumentOutOfRangeException(nameof(HistogramBins), EffectiveHistogramBins, "Entropy needs at least as many histogram bins as quantized bins.");
        }

        if (EffectiveMaxHistogramBins < 2 * EffectiveHistogramBins)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHistogramBins), EffectiveMaxHistogramBins, "MaxHistogramBins must be at least twice HistogramBins.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
    }
}
