namespace Compress.Core.Evaluation;

/// <summary>One budget limit a compressed model misses.</summary>
/// <param name="Key">The budget key, e.g. <c>min_agreement</c>.</param>
/// <param name="Measured">The measured value.</param>
/// <param name="Limit">The limit from the spec.</param>
public sealed record BudgetViolation(string Key, double Measured, double Limit)
{
    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"{Key}: measured {Measured:G6}, limit {Limit:G6}");
}
