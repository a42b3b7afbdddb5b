namespace Compress.Core.Spec;

/// <summary>What a quantize pass does to one node once the name filters and <c>node_overrides</c> are applied.</summary>
/// <param name="Quantize">False when the node is filtered out or excluded by an override.</param>
/// <param name="ActivationType">Integer type of the node's activations.</param>
/// <param name="WeightType">Integer type of the node's weights.</param>
/// <param name="PerChannel">One scale per output channel of the node's weights.</param>
public readonly record struct NodeQuantizationSettings(bool Quantize, QuantType ActivationType, QuantType WeightType, bool PerChannel);
