using Compress.Core.Calibration;

namespace Compress.Core.Passes;

/// <summary>Options of <see cref="StructuredPruning"/>.</summary>
public sealed class StructuredPruningOptions
{
    /// <summary>Fraction of each layer's outputs to remove, in (0, 1): floor(ratio × outputs) are removed, at least one is kept.</summary>
    public double Ratio { get; init; } = 0.25;

    /// <summary>Importance of an output: the norm of its weight row.</summary>
    public StructuredPruningNorm Norm { get; init; } = StructuredPruningNorm.L2;

    /// <summary>
    /// Calibration data for activation-based importance: when set, a layer keeps the outputs its consuming
    /// layers need most to reproduce their original outputs (see <see cref="StructuredPruningSelection"/>);
    /// when null, the outputs with the largest weight norm.
    /// </summary>
    public CalibrationDataSet? ActivationData { get; init; }

    /// <summary>
    /// Per layer: every layer loses <see cref="Ratio"/> of its outputs. Global (needs <see cref="ActivationData"/>):
    /// as many multiply-adds go as the per-layer cut would remove, taken where the consuming layers' relative
    /// least-squares error grows least per multiply-add (see <see cref="StructuredPruningAllocation"/>), so layers the
    /// data shows to be redundant lose more (at most twice the ratio) and sensitive ones less or nothing.
    /// </summary>
    public MagnitudePruningScope Scope { get; init; } = MagnitudePruningScope.PerLayer;

    /// <summary>Curves measured by earlier runs of the pass on the same original (tuning); null measures every curve afresh.</summary>
    public StructuredPruningCurveMemo? Curves { get; init; }

    /// <summary>Capture settings (batch size, Conv positions, damping) of the activation-based importance.</summary>
    public ReconstructionOptions ActivationOptions { get; init; } = new();

    /// <summary>Operators whose outputs may be removed.</summary>
    public IReadOnlyList<string> OpTypes { get; init; } = ["Conv", "MatMul", "Gemm"];

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of nodes whose outputs stay (their inputs still follow an upstream layer).</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>
    /// Kept outputs are rounded to the nearest multiple of this (ties toward fewer, at least one multiple), so
    /// the pruned layer fills the channel blocks ORT's kernels compute in; 1 keeps exactly what the ratio says.
    /// Default 16: ORT's fp32 Conv runs NCHWc blocks of 16 channels on AVX-512 (8 on AVX2), and fashion-cnn pruned
    /// to 12/24 channels ran slower than the original while 16/16 ran a third faster (bench/README.md).
    /// </summary>
    public int ChannelMultiple { get; init; } = DefaultChannelMultiple;

    /// <summary>The default of <see cref="ChannelMultiple"/> (see there why 16).</summary>
    public const int DefaultChannelMultiple = 16;

    /// <summary>How many of a layer's <paramref name="outputs"/> are kept: <see cref="Ratio"/> removed, then rounded to <see cref="ChannelMultiple"/>.</summary>
    public int KeptOutputs(int outputs)
    {
        int kept = outputs - (int)Math.Floor((Ratio * outputs) + 1e-9);
        if (ChannelMultiple > 1)
        {
            int lower = kept / ChannelMultiple * ChannelMultiple;
            kept = kept - lower <= lower + ChannelMultiple - kept ? lower : lower + ChannelMultiple;
            kept = Math.Max(kept, ChannelMultiple);
        }

        return Math.Clamp(kept, 1, outputs);
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> when <see cref="Ratio"/> is outside (0, 1) or <see cref="ChannelMultiple"/> is below 1,
    /// <see cref="ArgumentException"/> for a global <see cref="Scope"/> without <see cref="ActivationData"/>.
    /// </summary>
    public void Validate()
    {
        if (Scope == MagnitudePruningScope.Global && ActivationData is null)
        {
            throw new ArgumentException("A global scope shares the channels by their measured cost, so it needs activation data.", nameof(Scope));
        }

        if (ChannelMultiple < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChannelMultiple), ChannelMultiple, "channel_multiple must be at least 1.");
        }

        if (!(Ratio > 0 && Ratio < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Ratio), Ratio, "ratio must be in (0, 1).");
        }
    }
}
