namespace Compress.Core.Passes;

/// <summary>Switches for the parts of <see cref="GraphCleanup"/>; every part is on by default.</summary>
public sealed class GraphCleanupOptions
{
    /// <summary>Remove Identity nodes, rewiring their consumers (graph output names stay).</summary>
    public bool RemoveIdentity { get; init; } = true;

    /// <summary>Remove Dropout nodes (inference: Dropout is the identity) whose mask output is unused.</summary>
    public bool RemoveDropout { get; init; } = true;

    /// <summary>Fold BatchNormalization into the Conv/ConvTranspose that alone feeds it.</summary>
    public bool FoldBatchNormalization { get; init; } = true;

    /// <summary>Fold Add(Conv output, per-channel constant) into the Conv/ConvTranspose bias.</summary>
    public bool FoldConvBiasAdd { get; init; } = true;

    /// <summary>Evaluate small constant subexpressions (Reshape, Transpose, Unsqueeze, Squeeze, Cast, Add, Sub, Mul, Div, Concat, Shape of constants).</summary>
    public bool FoldConstants { get; init; } = true;

    /// <summary>Rewrite Div by a float constant as Mul by its reciprocal (keeps int8 chains unbroken).</summary>
    public bool DivisionByConstantToMultiplication { get; init; } = true;

    /// <summary>
    /// Rewrite <c>x · Clip(x + 3, 0, 6) / 6</c> as <c>x · HardSigmoid(x)</c>, which ONNX Runtime fuses into the Conv
    /// before it. Static quantization turns it off: in int8 the four nodes become QLinearAdd/QLinearMul, which run
    /// faster than a HardSigmoid between DequantizeLinear and QuantizeLinear; it fuses the hard-swishes it leaves float.
    /// </summary>
    public bool FuseHardSwish { get; init; } = true;

    /// <summary>Remove nodes whose outputs nobody reads (subgraph outer-scope reads count as reads).</summary>
    public bool RemoveDeadNodes { get; init; } = true;

    /// <summary>Remove initializers nobody reads (an initializer that is also a graph input stays: it is part of the interface).</summary>
    public bool RemoveUnusedInitializers { get; init; } = true;

    /// <summary>Largest tensor (in elements) constant folding may create; bigger results are left to the runtime.</summary>
    public long MaxFoldedElements { get; init; } = 1 << 20;
}
