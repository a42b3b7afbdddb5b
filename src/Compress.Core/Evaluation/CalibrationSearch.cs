using Compress.Core.Calibration;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>
/// The calibrations accuracy tuning tries on static quantize passes before it holds layers back. Which one fits depends on
/// the model and the data (measured here: digits-mlp loses 2.7 points with symmetric min/max ranges and none with any
/// asymmetric one; ocr-det's masks keep 0.95 IoU with asymmetric percentile ranges, 0.7 with entropy), and a better
/// calibration keeps every layer in int8, where a layer held back runs in float.
/// </summary>
public static class CalibrationSearch
{
    private static readonly CalibrationMethod[] Methods = [CalibrationMethod.MinMax, CalibrationMethod.Percentile, CalibrationMethod.Entropy];
    private static readonly bool[] Symmetries = [false, true];

    /// <summary>The calibration of the first static quantize pass that has one; null when no pass calibrates.</summary>
    public static CalibrationChoice? Written(IReadOnlyList<PassSpec> passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        return passes.OfType<QuantizePassSpec>().FirstOrDefault(IsCalibrated)?.Calibration is { } calibration
            ? new CalibrationChoice(calibration.Method, calibration.SymmetricRange)
            : null;
    }

    /// <summary>Every other method and symmetry, asymmetric ranges first (they suit the uint8 activations ORT runs fastest).</summary>
    public static IReadOnlyList<CalibrationChoice> Alternatives(CalibrationChoice written)
    {
        ArgumentNullException.ThrowIfNull(written);
        return [.. Symmetries.SelectMany(symmetric => Methods.Select(method => new CalibrationChoice(method, symmetric))).Where(c => c != written)];
    }

    /// <summary>Copies of <paramref name="passes"/> whose static quantize passes calibrate with <paramref name="choice"/>.</summary>
    public static IReadOnlyList<PassSpec> Apply(IReadOnlyList<PassSpec> passes, CalibrationChoice choice)
    {
        ArgumentNullException.ThrowIfNull(passes);
        ArgumentNullException.ThrowIfNull(choice);
        return [.. passes.Select(pass => pass is QuantizePassSpec quantize && IsCalibrated(quantize)
            ? SpecCopy.With(quantize, nameof(QuantizePassSpec.Calibration), SpecCopy.With(
                SpecCopy.With(quantize.Calibration!, nameof(CalibrationSpec.Method), choice.Method), nameof(CalibrationSpec.SymmetricRange), choice.Symmetric))
            : pass)];
    }

    private static bool IsCalibrated(QuantizePassSpec pass) => pass.Mode == QuantizationMode.Static && pass.Calibration is not null;
}
