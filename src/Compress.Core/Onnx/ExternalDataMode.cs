namespace Compress.Core.Onnx;

/// <summary>When <see cref="OnnxModelFile.Save(Proto.ModelProto, string, OnnxSaveOptions?)"/> moves tensor data into a separate file.</summary>
public enum ExternalDataMode
{
    /// <summary>Everything stays in the .onnx file; a model over protobuf's 2 GB limit fails with CMP1005.</summary>
    Never,

    /// <summary>Only when the model would not fit in one protobuf message (2 GB); otherwise like <see cref="Never"/>.</summary>
    Auto,

    /// <summary>Every tensor of at least <see cref="OnnxSaveOptions.MinExternalTensorBytes"/> bytes goes to the data file.</summary>
    Always,
}
