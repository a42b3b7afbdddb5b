namespace Compress.Core.Calibration;

/// <summary>Why a tensor got no range; a static quantization pass leaves the nodes around it in float.</summary>
public enum UncalibratedReason
{
    /// <summary>
    /// The tensor lives in a subgraph (an <c>If</c> branch, a <c>Loop</c> body): ONNX Runtime can only
    /// return tensors of the main graph.
    /// </summary>
    InsideSubgraph,

    /// <summary>The tensor lives in an <c>If</c> branch that never ran on the calibration data.</summary>
    BranchNeverRan,

    /// <summary>The tensor was asked for by name but is not a float tensor.</summary>
    NotFloat,

    /// <summary>The tensor was asked for by name but is a constant (initializer or Constant node).</summary>
    Constant,

    /// <summary>The tensor was asked for by name but the model has no tensor of that name.</summary>
    NotFound,

    /// <summary>The tensor was produced, but always empty or NaN, so there is no value to take a range of.</summary>
    NoValues,
}
