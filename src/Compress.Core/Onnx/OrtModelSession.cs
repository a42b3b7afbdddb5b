using Compress.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Onnx;

/// <summary>
/// An ONNX Runtime session over an in-memory model. A model that fits in one protobuf message goes to ONNX Runtime
/// as bytes; a larger one (over 2 GB, which protobuf cannot serialize) is written with external data to a private
/// temporary folder, which ONNX Runtime may keep mapped while the session lives and which is deleted on dispose.
/// </summary>
internal sealed class OrtModelSession : IDisposable
{
    private readonly string? folder;

    private OrtModelSession(InferenceSession session, string? folder)
    {
        Session = session;
        this.folder = folder;
    }

    /// <summary>The session; owned by this object.</summary>
    public InferenceSession Session { get; }

    /// <summary>True when the model was too large for bytes and runs from a temporary file with external data.</summary>
    public bool FromFile => folder is not null;

    /// <summary>Opens a session on <paramref name="model"/>; ONNX Runtime's own errors pass through as <see cref="OnnxRuntimeException"/>.</summary>
    public static OrtModelSession Open(ModelProto model, SessionOptions options) => Open(model, options, OnnxSaveOptions.ProtobufLimitBytes);

    /// <summary>As <see cref="Open(ModelProto, SessionOptions)"/>, with the size limit tests lower instead of building 2 GB models.</summary>
    internal static OrtModelSession Open(ModelProto model, SessionOptions options, long sizeLimitBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (OnnxModelFile.Fits(model, sizeLimitBytes))
        {
            // Fits was just checked: serialize directly (OnnxModelFile.ToBytes would walk the tensors again).
            return new OrtModelSession(new InferenceSession(model.ToByteArray(), options), null);
        }

        string folder = Directory.CreateTempSubdirectory("compress-ort-").FullName;
        try
        {
            string path = Path.Combine(folder, "model.onnx");
            OnnxModelFile.Save(model, path, new OnnxSaveOptions { ExternalData = ExternalDataMode.Always });
            return new OrtModelSession(new InferenceSession(path, options), folder);
        }
        catch
        {
            Delete(folder);
            throw;
        }
    }

    public void Dispose()
    {
        Session.Dispose();
        if (folder is not null)
        {
            Delete(folder);
        }
    }

    private static void Delete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover in the temp folder is harmless; failing a build over it is not.
        }
    }
}
