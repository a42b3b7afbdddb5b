using Compress.Core.Calibration;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>
/// The settings accuracy tuning tries on static quantize passes before it holds layers back. Which ones fit depends on
/// the model and the data (digits-mlp loses 2.7 points with symmetric min/max ranges and none with asymmetric ones;
/// ocr-det's text masks on its calibration page keep 0.63 IoU per-tensor whatever the calibration, 0.88 per-channel with
/// asymmetric percentile ranges), and a better setting keeps every layer in int8, where a layer held back runs in float.
/// </summary>
public static class QuantizationChoices
{
    private static readonly CalibrationMethod[] Methods = [CalibrationMethod.MinMax, CalibrationMethod.Percentile, CalibrationMethod.Entropy];
    private static readonly bool[] Symmetries = [false, true];

    /// <summary>The settings of the first static quantize pass that calibrates; null when no pass does.</summary>
    public static QuantizationChoice? Written(IReadOnlyList<PassSpec> passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        return passes.OfType<QuantizePassSpec>().FirstOrDefault(p => p.IsCalibratedStatic()) is { Calibration: { } calibration } pass
            ? new QuantizationChoice(calibration.Method, calibration.SymmetricRange, pass.PerChannel)
            : null;
    }

    /// <summary>
    /// Every other combination, in two groups: the written weight granularity first (only the calibration changes, so the
    /// file keeps its size), then the other one. Within a group asymmetric ranges come before symmetric ones (they suit
    /// the uint8 activations ORT runs fastest); that order only breaks exact ties.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<QuantizationChoice>> Alternatives(QuantizationChoice written)
    {
        ArgumentNullException.ThrowIfNull(written);
        IReadOnlyList<QuantizationChoice> Group(bool perChannel) =>
            [.. Symmetries.SelectMany(symmetric => Methods.Select(method => new QuantizationChoice(method, symmetric, perChannel))).Where(c => c != written)];
        return [Group(written.PerChannel), Group(!written.PerChannel)];
    }

    /// <summary>Copies of <paramref name="passes"/> whose static quantize passes use <paramref name="choice"/>.</summary>
    public static IReadOnlyList<PassSpec> Apply(IReadOnlyList<PassSpec> passes, QuantizationChoice choice)
    {
        ArgumentNullException.ThrowIfNull(passes);
        ArgumentNullException.ThrowIfNull(choice);
        return [.. passes.Select(pass => pass is QuantizePassSpec quantize && quantize.IsCalibratedStatic() ? Apply(quantize, choice) : pass)];
    }

    private static QuantizePassSpec Apply(QuantizePassSpec pass, QuantizationChoice choice)
    {
        CalibrationSpec calibration = SpecCopy.With(SpecCopy.With(pass.Calibration!, nameof(CalibrationSpec.Method), choice.Method), nameof(CalibrationSpec.SymmetricRange), choice.Symmetric);
        return SpecCopy.With(SpecCopy.With(pass, nameof(QuantizePassSpec.Calibration), calibration), nameof(QuantizePassSpec.PerChannel), choice.PerChannel);
    }
}
