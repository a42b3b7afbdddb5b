namespace Compress.Core.Onnx;

/// <summary>Options for <see cref="OnnxModelFile.Load(string, OnnxLoadOptions?)"/>.</summary>
public sealed record OnnxLoadOptions
{
    /// <summary>The defaults: external data is read into memory.</summary>
    public static OnnxLoadOptions Default { get; } = new();

    /// <summary>
    /// When true (default), every tensor stored in external data is read into <c>raw_data</c> and its
    /// <c>data_location</c>/<c>external_data</c> are cleared, so passes only ever see in-memory tensors.
    /// When false the references are kept as they are (useful to inspect a model without reading its weights).
    /// </summary>
    public bool LoadExternalData { get; init; } = true;
}
