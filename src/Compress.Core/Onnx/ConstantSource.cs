namespace Compress.Core.Onnx;

/// <summary>Where a constant tensor is stored in a graph.</summary>
public enum ConstantSource
{
    /// <summary>An entry of <c>GraphProto.initializer</c>.</summary>
    Initializer,

    /// <summary>The output of a <c>Constant</c> node.</summary>
    ConstantNode,
}
