namespace Compress.Core.Evaluation;

/// <summary>Where the decisions of a tuned model came from (the report's <c>evaluation.tuning_decisions.status</c>).</summary>
public enum TuningDecisionStatus
{
    /// <summary>Cached decisions of an earlier build met the budget with one evaluation; no search ran.</summary>
    Reused,

    /// <summary>Cached decisions missed the budget; tuning searched again and stored its decisions.</summary>
    Stale,

    /// <summary>No cached decisions; tuning searched and stored its decisions.</summary>
    Stored,

    /// <summary>No cache folder (or tuning failed): tuning searched and nothing was stored.</summary>
    NotCached,
}
