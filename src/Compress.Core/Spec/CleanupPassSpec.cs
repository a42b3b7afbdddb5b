namespace Compress.Core.Spec;

/// <summary>Options of a <c>cleanup</c> pass: graph simplifications that keep the model's results; all on by default.</summary>
public sealed class CleanupPassSpec : PassSpec
{
    /// <summary>The pass name in YAML.</summary>
    public const string PassKind = "cleanup";

    /// <summary>Creates a pass with every option at its default.</summary>
    public CleanupPassSpec()
        : base(PassKind)
    {
    }

    /// <summary>Remove Identity nodes, wiring their input to their consumers.</summary>
    public bool RemoveIdentity { get; init; } = true;

    /// <summary>Remove Dropout nodes (identity at inference) whose mask output is unused.</summary>
    public bool RemoveDropout { get; init; } = true;

    /// <summary>Remove nodes and initializers that no graph output depends on.</summary>
    public bool RemoveDeadNodes { get; init; } = true;

    /// <summary>Fold BatchNormalization into the preceding Conv (or Gemm) weights and bias.</summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>Evaluate nodes whose inputs are all constants at build time and store the results as initializers.</summary>
    public bool FoldConstants { get; init; } = true;

    /// <summary>Rewrite <c>x · Clip(x + 3, 0, 6) / 6</c> as <c>x · HardSigmoid(x)</c>, which ONNX Runtime fuses into the preceding Conv.</summary>
    public bool FuseHardSwish { get; init; } = true;
}
