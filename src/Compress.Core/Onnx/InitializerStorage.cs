namespace Compress.Core.Onnx;

/// <summary>How the output model stores its weights (model-entry key <c>storage</c>).</summary>
public enum InitializerStorage
{
    /// <summary>Every initializer as a dense tensor.</summary>
    Dense,

    /// <summary>
    /// Weights with enough zeros as ONNX <c>sparse_initializer</c>s (non-zero values and their positions), each
    /// only when that is smaller; ONNX Runtime rebuilds the dense tensors when it loads the model.
    /// </summary>
    Sparse,
}
