using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>
/// A constant tensor found behind a tensor name: a graph initializer or the output of a
/// <c>Constant</c> node, in the graph <see cref="Owner"/> (which may be an outer scope of the graph
/// where the name was looked up).
/// </summary>
public sealed class ConstantTensor
{
    internal ConstantTensor(GraphScope owner, string name, ConstantSource source, TensorProto? initializer, NodeProto? constantNode)
    {
        Owner = owner;
        Name = name;
        Source = source;
        Initializer = initializer;
        ConstantNode = constantNode;
    }

    /// <summary>The graph that defines the constant.</summary>
    public GraphScope Owner { get; }

    /// <summary>The tensor name nodes refer to.</summary>
    public string Name { get; }

    /// <summary>Initializer or Constant node.</summary>
    public ConstantSource Source { get; }

    /// <summary>The initializer, when <see cref="Source"/> is <see cref="ConstantSource.Initializer"/>.</summary>
    public TensorProto? Initializer { get; }

    /// <summary>The Constant node, when <see cref="Source"/> is <see cref="ConstantSource.ConstantNode"/>.</summary>
    public NodeProto? ConstantNode { get; }

    /// <summary>
    /// The value as a tensor. For initializers and <c>value</c> attributes this is the stored proto
    /// itself (do not mutate it; use <see cref="ModelGraph.ReplaceConstant"/>); for
    /// <c>value_float(s)</c>/<c>value_int(s)</c> a new tensor is built. Null for value kinds that
    /// have no dense tensor (sparse_value, strings).
    /// </summary>
    public TensorProto? Value => Source == ConstantSource.Initializer ? Initializer : ModelGraph.ConstantNodeValue(ConstantNode!, Name);

    /// <summary>Element type of the value, or Undefined when unknown.</summary>
    public TensorProto.Types.DataType DataType => Value is { } v ? (TensorProto.Types.DataType)v.DataType : TensorProto.Types.DataType.Undefined;

    /// <summary>Dimensions of the value (empty for a scalar).</summary>
    public IReadOnlyList<long> Dims => Value is { } v ? v.Dims : [];
}
