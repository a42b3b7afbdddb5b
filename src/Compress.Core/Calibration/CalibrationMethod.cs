using System.Text.Json.Serialization;

namespace Compress.Core.Calibration;

/// <summary>How activation ranges are derived from the calibration data (as in onnxruntime.quantization).</summary>
public enum CalibrationMethod
{
    /// <summary>Smallest and largest value seen (optionally a moving average of per-batch extremes).</summary>
    [JsonStringEnumMemberName("minmax")] // as compress.yaml spells it, in reports and cached tuning decisions
    MinMax,

    /// <summary>Histogram, then the threshold whose quantized distribution has the least KL divergence.</summary>
    Entropy,

    /// <summary>Histogram, then the given percentile (of |x| when symmetric, else of both tails).</summary>
    Percentile,
}
