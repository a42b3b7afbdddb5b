using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Calibration;

/// <summary>
/// Calibration results by (calibration spec, model content). The model is identified by the SHA-256 of its bytes,
/// so a model that earlier passes changed differently is calibrated again; the spec by reference, as tuning runs
/// copies of the same pass that share its <see cref="CalibrationSpec"/>.
/// </summary>
public sealed class CalibrationMemo
{
    private readonly Dictionary<(CalibrationSpec Spec, string Model), CalibrationResult> results = [];

    /// <summary>The result for <paramref name="spec"/> on <paramref name="model"/>, calibrating only the first time.</summary>
    public CalibrationResult GetOrCalibrate(CalibrationSpec spec, ModelProto model, Func<CalibrationResult> calibrate)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(calibrate);
        var key = (spec, ModelContentHash.Sha256(model));
        if (!results.TryGetValue(key, out CalibrationResult? result))
        {
            result = calibrate();
            results[key] = result;
        }

        return result;
    }
}
