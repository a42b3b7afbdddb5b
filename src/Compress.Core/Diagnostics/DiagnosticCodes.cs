namespace Compress.Core.Diagnostics;

/// <summary>
/// Every diagnostic code Compress emits. Codes are stable: users silence or escalate them with
/// NoWarn / WarningsAsErrors, so a code is never reused for another meaning.
/// Ranges: CMP0xxx spec, CMP1xxx model I/O, CMP2xxx accuracy budget, CMP3xxx passes, CMP9xxx internal.
/// </summary>
public static class DiagnosticCodes
{
    // Spec (compress.yaml)
    public const string YamlSyntax = "CMP0001";
    public const string UnknownKey = "CMP0002";
    public const string WrongType = "CMP0003";
    public const string OutOfRange = "CMP0004";
    public const string MissingKey = "CMP0005";
    public const string BadEnumValue = "CMP0006";
    public const string EmptyModels = "CMP0007";
    public const string DuplicateModelName = "CMP0008";
    public const string ModelFileMissing = "CMP0009";
    public const string OutputEscapesFolder = "CMP0010";
    public const string SpecUnreadable = "CMP0011";
    public const string UnsupportedVersion = "CMP0012";
    public const string InvalidValue = "CMP0013";
    public const string DataFileMissing = "CMP0014";
    public const string DuplicateKey = "CMP0015";
    public const string NotSupportedInThisVersion = "CMP0016";

    /// <summary>A key (or value) that does not apply to the pass's mode or calibration method, e.g. 'calibration' with mode dynamic.</summary>
    public const string KeyNotApplicable = "CMP0017";

    /// <summary>Two keys that contradict each other, e.g. 'calibrate_method' and 'calibration.method' with different values.</summary>
    public const string ConflictingOptions = "CMP0018";

    // Model I/O
    public const string ModelNotFound = "CMP1001";
    public const string ModelInvalid = "CMP1002";
    public const string ExternalDataLocationInvalid = "CMP1003";
    public const string ExternalDataUnreadable = "CMP1004";
    public const string ModelTooLarge = "CMP1005";
    public const string ModelWriteFailed = "CMP1006";
    public const string DataFileInvalid = "CMP1007";

    // Accuracy budgets (evaluate:)
    /// <summary>A compressed model misses an accuracy budget of its 'evaluate' block (error or warning per on_failure).</summary>
    public const string AccuracyBudgetMissed = "CMP2001";

    /// <summary>on_failure: tune tried every candidate layer uncompressed (or reached max_excluded_layers) and the budget still fails.</summary>
    public const string AccuracyTuningFailed = "CMP2002";

    /// <summary>Evaluation data that do not fit: labels unreadable or of another count, unknown output, metric needs [N, classes].</summary>
    public const string EvaluationDataInvalid = "CMP2003";

    // Passes
    /// <summary>A quantize, prune or reconstruct pass changed nothing (a warning; the reasons nodes were skipped follow).</summary>
    public const string PassChangedNothing = "CMP3001";
    public const string NodeSkipped = "CMP3002";
    public const string PassFailed = "CMP3003";

    // Internal
    public const string Internal = "CMP9001";

    // Reported by the MSBuild task (Compress.Tasks repeats them; it cannot reference this assembly).
    public const string ToolFailed = "CMP9002";
    public const string ToolNotFound = "CMP9003";
    public const string InvalidBuildProperty = "CMP9004";
}
