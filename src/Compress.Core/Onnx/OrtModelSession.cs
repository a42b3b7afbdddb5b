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

    /// <summary>
    /// Opens a session on a copy of <paramref name="model"/> in which <paramref name="tensors"/> are graph outputs too, so a
    /// pass can read intermediate values: no graph optimization (every tensor keeps its name and value), one thread,
    /// errors-only log. ONNX Runtime's own errors pass through as <see cref="OnnxRuntimeException"/>.
    /// </summary>
    public static OrtModelSession OpenExposing(ModelProto model, IEnumerable<string> tensors)
    {
        ModelProto copy = WithOutputs(model, tensors);
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        return Open(copy, options);
    }

    /// <summary>
    /// A copy of <paramref name="model"/> whose graph outputs also list <paramref name="tensors"/> (each once, after the
    /// model's own). No type is given: ORT infers graph output types while it resolves the graph, so models without
    /// value_info work.
    /// </summary>
    public static ModelProto WithOutputs(ModelProto model, IEnumerable<string> tensors)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        ModelProto copy = model.Clone();
        var outputs = new HashSet<string>(copy.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (string tensor in tensors.Where(outputs.Add))
        {
            copy.Graph.Output.Add(new ValueInfoProto { Name = tensor });
        }

        return copy;
    }

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
