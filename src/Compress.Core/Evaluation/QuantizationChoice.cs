using Compress.Core.Calibration;

namespace Compress.Core.Evaluation;

/// <summary>Settings of a static quantize pass that accuracy tuning may change: the calibration and the weight granularity.</summary>
/// <param name="Method">How activation ranges are taken from the calibration data (<c>calibration.method</c>).</param>
/// <param name="Symmetric">Whether the ranges are symmetric around zero (<c>calibration.symmetric</c>, ORT's CalibTensorRangeSymmetric).</param>
/// <param name="PerChannel">Whether weights get one scale per output channel (<c>per_channel</c>).</param>
public sealed record QuantizationChoice(CalibrationMethod Method, bool Symmetric, bool PerChannel)
{
    /// <summary>As a report shows it: "percentile, asymmetric, per-channel".</summary>
    public override string ToString() =>
        $"{Method.ToString().ToLowerInvariant()}, {(Symmetric ? "symmetric" : "asymmetric")}, {(PerChannel ? "per-channel" : "per-tensor")}";
}
