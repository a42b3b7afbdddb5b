using Compress.Core.Calibration;

namespace Compress.Core.Evaluation;

/// <summary>A calibration method and range symmetry, as accuracy tuning tries them on the static quantize passes.</summary>
/// <param name="Method">How activation ranges are taken from the calibration data (<c>method</c>).</param>
/// <param name="Symmetric">Whether the ranges are symmetric around zero (<c>symmetric</c>, ORT's CalibTensorRangeSymmetric).</param>
public sealed record CalibrationChoice(CalibrationMethod Method, bool Symmetric)
{
    /// <summary>As a spec would write it: "percentile, asymmetric".</summary>
    public override string ToString() => $"{Method.ToString().ToLowerInvariant()}, {(Symmetric ? "symmetric" : "asymmetric")}";
}
