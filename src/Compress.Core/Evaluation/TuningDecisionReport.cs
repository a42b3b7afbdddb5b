using System.Text.Json.Serialization;

namespace Compress.Core.Evaluation;

/// <summary>The <c>evaluation.tuning_decisions</c> section of a report: whether tuning reused the decisions of an earlier build.</summary>
/// <param name="Status">Where the decisions came from.</param>
/// <param name="Key">The content hash the decisions are cached under; null without a cache.</param>
public sealed record TuningDecisionReport(
    TuningDecisionStatus Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Key);
