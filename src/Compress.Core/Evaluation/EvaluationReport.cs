using System.Text.Json.Serialization;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>The <c>evaluation</c> section of a model report (see docs/report-schema.json).</summary>
public sealed class EvaluationReport
{
    /// <summary>The scored output.</summary>
    public required string Output { get; init; }

    /// <summary>Samples evaluated.</summary>
    public int Samples { get; init; }

    /// <summary>Whether labels were given.</summary>
    public bool Labels { get; init; }

    /// <summary>Classes of a [N, classes] output; null otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Classes { get; init; }

    /// <summary>k of the top-k accuracy.</summary>
    public int TopK { get; init; }

    /// <summary>What a missed budget does.</summary>
    public EvaluateFailureAction OnFailure { get; init; }

    /// <summary>The limits set in the spec, by budget key.</summary>
    public required IReadOnlyDictionary<string, double> Budget { get; init; }

    /// <summary>The original model.</summary>
    public required EvaluationMetrics Before { get; init; }

    /// <summary>The written (possibly tuned) compressed model.</summary>
    public required EvaluationMetrics After { get; init; }

    /// <summary>The compressed model before tuning; null when tuning did not run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EvaluationMetrics? AfterUntuned { get; init; }

    /// <summary>
    /// Evaluations of compressed variants in this build: 1 without tuning, 2 when cached tuning decisions were reused,
    /// 1 + candidates + steps after a search.
    /// </summary>
    public int Evaluations { get; init; }

    /// <summary>Whether tuning reused cached decisions or searched (and stored them); null when tuning did not run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TuningDecisionReport? TuningDecisions { get; init; }

    /// <summary>The settings tuning chose for the static quantize passes instead of the written ones; null when unchanged.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public QuantizationChoice? TunedQuantization { get; init; }

    /// <summary>Top-1 accuracy lost (1 − agreement without labels); null for non-classification outputs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? AccuracyDrop { get; init; }

    /// <summary>Whether the written model meets the budget.</summary>
    public bool Passed { get; init; }

    /// <summary>The limits missed by the written model.</summary>
    public required IReadOnlyList<string> Violations { get; init; }

    /// <summary>Nodes tuning left as in the original (in float, unpruned), most sensitive first.</summary>
    public IReadOnlyList<string> KeptAtHigherPrecision { get; init; } = [];

    /// <summary>Measured sensitivity of every candidate layer, most sensitive first; null when tuning did not run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LayerSensitivity>? LayerSensitivity { get; init; }

    /// <summary>The budget as a key → limit map (only the limits that are set).</summary>
    public static IReadOnlyDictionary<string, double> BudgetOf(EvaluateBudgetSpec budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        var limits = new Dictionary<string, double>(StringComparer.Ordinal);
        void Add(string key, double? value)
        {
            if (value is double v)
            {
                limits[key] = v;
            }
        }

        Add(EvaluateKeys.MaxAccuracyDrop, budget.MaxAccuracyDrop);
        Add(EvaluateKeys.MinAccuracy, budget.MinAccuracy);
        Add(EvaluateKeys.MinAgreement, budget.MinAgreement);
        Add(EvaluateKeys.MinCosine, budget.MinCosine);
        Add(EvaluateKeys.MinMaskIou, budget.MinMaskIou);
        Add(EvaluateKeys.MaxAbsError, budget.MaxAbsError);
        Add(EvaluateKeys.MaxMeanAbsError, budget.MaxMeanAbsError);
        Add(EvaluateKeys.MaxRelativeError, budget.MaxRelativeError);
        return limits;
    }
}
