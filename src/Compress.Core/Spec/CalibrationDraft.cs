using Compress.Core.Calibration;

namespace Compress.Core.Spec;

/// <summary>
/// The keys of a <c>calibration</c> block as written (absent keys are null), before the quantize reader merges
/// <c>calibrate_method</c> and the <c>Calib*</c> extra options into it.
/// </summary>
internal sealed class CalibrationDraft(MappingEntry entry)
{
    public MappingEntry Entry { get; } = entry;

    public IReadOnlyList<string>? DataPaths { get; set; }

    public WrittenValue<CalibrationMethod>? Method { get; set; }

    /// <summary>'method' was written but reported, so checks that depend on the method are skipped.</summary>
    public bool MethodUnknown { get; set; }

    public WrittenValue<int>? Samples { get; set; }

    public WrittenValue<int>? BatchSize { get; set; }

    public WrittenValue<double>? Percentile { get; set; }

    public WrittenValue<bool>? MovingAverage { get; set; }

    public WrittenValue<double>? MovingAverageConstant { get; set; }

    public WrittenValue<bool>? Symmetric { get; set; }
}
