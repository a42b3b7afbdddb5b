namespace Compress.Core.Spec;

/// <summary>What happens when a compressed model misses a budget of its <c>evaluate</c> block (<c>on_failure</c>).</summary>
public enum EvaluateFailureAction
{
    /// <summary>Error CMP2001: the model is not written.</summary>
    Error,

    /// <summary>Warning CMP2001: the model is written anyway.</summary>
    Warning,

    /// <summary>Leave the most sensitive layers as in the original (in float, unpruned), step by step, until the budget holds (else CMP2002).</summary>
    Tune,
}
