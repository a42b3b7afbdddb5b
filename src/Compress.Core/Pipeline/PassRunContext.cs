using Compress.Core.Calibration;
using Compress.Core.Passes;

namespace Compress.Core.Pipeline;

/// <summary>What the pass runs of one model share: where long steps report progress, and calibrations and pruning curves already measured.</summary>
public sealed class PassRunContext
{
    /// <summary>No progress, no reuse: every run calibrates afresh.</summary>
    public static PassRunContext None { get; } = new();

    /// <summary>Receives calibration progress; null reports nothing.</summary>
    public ModelProgress? Progress { get; init; }

    /// <summary>
    /// Activation ranges of earlier runs, reused when the same calibration runs on the same model again (tuning
    /// re-runs the passes from the original many times; calibration does not depend on which nodes are excluded).
    /// </summary>
    public CalibrationMemo? Calibrations { get; init; }

    /// <summary>
    /// Activation-importance curves of structured pruning, reused when the pass runs on the same original again (a
    /// layer's curve does not depend on which other layers are excluded either).
    /// </summary>
    public StructuredPruningCurveMemo? PruningCurves { get; init; }

    /// <summary>This context without progress (for runs whose caller reports its own).</summary>
    public PassRunContext Quiet() => Progress is null ? this : new PassRunContext { Calibrations = Calibrations, PruningCurves = PruningCurves };
}
