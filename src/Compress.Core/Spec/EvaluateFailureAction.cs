namespace Compress.Core.Spec;

/// <summary>What happens when a compressed model misses a budget of its <c>evaluate</c> block (<c>on_failure</c>).</summary>
public enum EvaluateFailureAction
{
    /// <summary>Error CMP2001: the model is not written.</summary>
    Error,

    /// <summary>Warning CMP2001: the model is written anyway.</summary>
    Warning,

    /// <summary>Keep the most sensitive quantized layers in float, step by step, until the budget holds (else CMP2002).</summary>
    Tune,
}
