using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>A tensor somewhere in a model, with a human-readable description of where it is (for messages).</summary>
/// <param name="Tensor">The tensor itself (mutable: changes affect the model).</param>
/// <param name="Description">Where it lives, e.g. "initializer 'W' of graph 'main'".</param>
public readonly record struct OnnxTensorSite(TensorProto Tensor, string Description);
