namespace Compress.Core.Packing;

/// <summary>How a compressed model is shipped besides the plain <c>.onnx</c> file (model-entry key <c>pack</c>).</summary>
public enum PackFormat
{
    /// <summary>Only the <c>.onnx</c> file.</summary>
    None,

    /// <summary>Also <c>&lt;name&gt;.onnx.br</c>: the model Brotli-compressed (quality 11), which Compress.Runtime loads directly.</summary>
    Brotli,
}
