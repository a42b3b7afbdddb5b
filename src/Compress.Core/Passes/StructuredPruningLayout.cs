namespace Compress.Core.Passes;

/// <summary>Where the pruned channel dimension sits in a tensor traced by <see cref="StructuredPruning"/>.</summary>
internal enum StructuredPruningLayout
{
    /// <summary>Conv-style [N, C, spatial…]: channels on axis 1 of a tensor of known rank ≥ 3.</summary>
    Channels,

    /// <summary>Gemm-style [N, F]: rank 2, features on axis 1.</summary>
    Features,

    /// <summary>MatMul-style [..., F]: features on the last axis, rank unknown.</summary>
    LastAxis,

    /// <summary>After Flatten(axis = 1): [N, C × block], each channel a contiguous block of unknown size.</summary>
    Flattened,
}
