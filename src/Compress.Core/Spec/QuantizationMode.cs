namespace Compress.Core.Spec;

/// <summary>How a quantize pass treats activations (YAML: dynamic | static | weight_only).</summary>
public enum QuantizationMode
{
    /// <summary>Weights quantized at build time, activations quantized at run time.</summary>
    Dynamic,

    /// <summary>Weights and activations quantized with ranges calibrated at build time.</summary>
    Static,

    /// <summary>Only weights quantized (e.g. MatMulNBits int4); activations stay float.</summary>
    WeightOnly,
}
