namespace Compress.Core.Inspection;

/// <summary>An operator set the model imports.</summary>
/// <param name="Domain">Domain name; empty for the default ONNX domain.</param>
/// <param name="Version">Opset version.</param>
public sealed record OpsetImport(string Domain, long Version);

/// <summary>A graph input or output: name, element type and shape (dim values or symbolic names; "?" when unknown).</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="ElementType">Element type such as <c>float32</c>.</param>
/// <param name="Shape">Dimensions; null when the shape is not declared.</param>
public sealed record TensorSignature(string Name, string ElementType, IReadOnlyList<string>? Shape);

/// <summary>Constant tensors of one element type.</summary>
/// <param name="ElementType">Element type such as <c>float32</c>.</param>
/// <param name="Count">Number of tensors.</param>
/// <param name="Elements">Total elements.</param>
/// <param name="Bytes">Total bytes of the values.</param>
public sealed record ElementTypeSummary(string ElementType, int Count, long Elements, long Bytes);

/// <summary>Zeros in one float constant tensor.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Graph">Graph path holding the tensor.</param>
/// <param name="Elements">Elements in the tensor.</param>
/// <param name="Zeros">Elements exactly equal to zero.</param>
/// <param name="Sparsity">Zeros / Elements.</param>
public sealed record TensorSparsity(string Name, string Graph, long Elements, long Zeros, double Sparsity);

/// <summary>Zeros among all float constant tensors, and for the largest ones.</summary>
/// <param name="FloatElements">Elements of all float constant tensors.</param>
/// <param name="ZeroElements">Of which exactly zero.</param>
/// <param name="Sparsity">ZeroElements / FloatElements (0 when there are none).</param>
/// <param name="LargestTensors">The largest float constants, biggest first.</param>
public sealed record SparsitySummary(long FloatElements, long ZeroElements, double Sparsity, IReadOnlyList<TensorSparsity> LargestTensors);
