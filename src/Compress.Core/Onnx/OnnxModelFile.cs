using System.Globalization;
using System.Text;
using Compress.Core.Diagnostics;
using Compress.Core.IO;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Onnx;

/// <summary>
/// Reads and writes ONNX model files. Loading resolves external tensor data into memory (so passes
/// never see references to other files); saving is atomic (temporary file + rename), deterministic
/// (same model, same bytes), keeps unknown protobuf fields, and moves large tensors to a data file
/// when asked or when the model would exceed protobuf's 2 GB limit. Failures are
/// <see cref="CompressException"/>s with CMP1001-CMP1006 codes.
/// </summary>
public static class OnnxModelFile
{
    /// <summary>Loads the model at <paramref name="path"/>, reading external data from the model's folder.</summary>
    /// <exception cref="CompressException">CMP1001 missing file, CMP1002 not an ONNX model, CMP1003/CMP1004 bad external data.</exception>
    public static ModelProto Load(string path, OnnxLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= OnnxLoadOptions.Default;
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new CompressException(
                DiagnosticCodes.ModelNotFound,
                $"The model file '{path}' does not exist (looked for '{full}'). Check the path; relative paths are resolved from the current folder.",
                path);
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(
                DiagnosticCodes.ModelNotFound,
                $"The model file '{path}' cannot be read: {e.Message}. Check its permissions and that it is under 2 GB (larger models keep weights in external data).",
                path,
                e);
        }

        ModelProto model = Parse(bytes, path);
        if (options.LoadExternalData)
        {
            LoadExternalData(model, path);
        }

        return model;
    }

    /// <summary>
    /// Reads the external data of a model loaded from <paramref name="path"/> with
    /// <see cref="OnnxLoadOptions.LoadExternalData"/> off, as <see cref="Load(string, OnnxLoadOptions?)"/> would have.
    /// </summary>
    /// <exception cref="CompressException">CMP1003/CMP1004 bad external data.</exception>
    public static void LoadExternalData(ModelProto model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ExternalDataReader.LoadAll(model, Path.GetDirectoryName(Path.GetFullPath(path)), path);
    }

    /// <summary>
    /// Loads a model from a stream. External data is resolved against <paramref name="baseDirectory"/>;
    /// a model with external tensors and no base directory fails with CMP1004.
    /// </summary>
    public static ModelProto Load(Stream stream, string? baseDirectory, OnnxLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= OnnxLoadOptions.Default;
        byte[] bytes;
        if (stream is MemoryStream memory && memory.TryGetBuffer(out ArraySegment<byte> segment))
        {
            bytes = segment.AsSpan((int)memory.Position).ToArray();
            memory.Position = memory.Length;
        }
        else
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }

        ModelProto model = Parse(bytes, null);
        if (options.LoadExternalData)
        {
            ExternalDataReader.LoadAll(model, baseDirectory, null);
        }

        return model;
    }

    /// <summary>
    /// Saves <paramref name="model"/> to <paramref name="path"/> without changing it. The model (and
    /// the external data file, when one is written) go to temporary files in the target folder first
    /// and then replace the targets, so a failure never leaves a half-written model behind.
    /// </summary>
    /// <exception cref="CompressException">CMP1003 bad data file name, CMP1005 too large, CMP1006 write failed.</exception>
    public static void Save(ModelProto model, string path, OnnxSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= OnnxSaveOptions.Default;
        ValidateOptions(options);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        string dataFileName = options.ExternalDataFileName ?? Path.GetFileName(full) + ".data";
        ValidateDataFileName(dataFileName, Path.GetFileName(full), path);
        EnsureNoExternalReferences(model, path);

        bool external = options.ExternalData switch
        {
            ExternalDataMode.Always => true,
            ExternalDataMode.Never => false,
            _ => !Fits(model, options.SizeLimitBytes),
        };

        try
        {
            if (!external)
            {
                ThrowIfTooLarge(model, options, path, afterExternalizing: false);
                using var modelFile = new PendingFile(full);
                WriteModel(model, modelFile);
                options.BeforeCommit?.Invoke();
                modelFile.Commit();
                return;
            }

            ModelProto copy = model.Clone();
            using var dataFile = new PendingFile(Path.Combine(folder, dataFileName));
            int moved;
            using (FileStream data = dataFile.OpenWrite())
            {
                moved = ExternalDataWriter.MoveToExternal(copy, data, dataFileName, options);
                data.Flush(flushToDisk: true);
            }

            ThrowIfTooLarge(copy, options, path, afterExternalizing: true);
            using var target = new PendingFile(full);
            WriteModel(copy, target);
            options.BeforeCommit?.Invoke();

            // Data first: the new model file must never point at an old data file.
            if (moved > 0)
            {
                dataFile.Commit();
            }

            target.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(
                DiagnosticCodes.ModelWriteFailed,
                $"Writing the model to '{path}' failed: {e.Message.TrimEnd('.')}. Check that the folder exists, is writable and has free space.",
                path,
                e);
        }
    }

    /// <summary>Writes a model that has no external data references to <paramref name="stream"/>.</summary>
    /// <exception cref="CompressException">CMP1005 over 2 GB, CMP1006 write failed or external references present.</exception>
    public static void Save(ModelProto model, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stream);
        EnsureNoExternalReferences(model, null);
        ThrowIfTooLarge(model, OnnxSaveOptions.Default with { ExternalData = ExternalDataMode.Never }, null, afterExternalizing: false);
        try
        {
            model.WriteTo(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCodes.ModelWriteFailed, $"Writing the model to the stream failed: {e.Message.TrimEnd('.')}.", null, e);
        }
    }

    /// <summary>Serializes a model (no external data) to bytes; the same model always gives the same bytes.</summary>
    public static byte[] ToBytes(ModelProto model)
    {
        using var stream = new MemoryStream();
        Save(model, stream);
        return stream.ToArray();
    }

    /// <summary>
    /// True when the serialized model is at most <paramref name="limitBytes"/> long. Computed with
    /// 64-bit sums first, because protobuf's own 32-bit size overflows for models over 2 GB.
    /// </summary>
    internal static bool Fits(ModelProto model, long limitBytes)
    {
        long tensorBytes = 0;
        foreach (OnnxTensorSite site in OnnxModelWalker.Tensors(model))
        {
            tensorBytes += site.Tensor.CalculateSize();
            if (tensorBytes > limitBytes)
            {
                return false;
            }
        }

        int size = model.CalculateSize();
        return size >= tensorBytes && size <= limitBytes;
    }

    private static ModelProto Parse(byte[] bytes, string? file)
    {
        string what = file is null ? "The model stream" : $"'{file}'";
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CompressException(DiagnosticCodes.ModelInvalid, $"{what} is not a valid ONNX model: {e.Message}.{Hint(bytes)}", file, e);
        }

        if (model.Graph is null)
        {
            throw new CompressException(
                DiagnosticCodes.ModelInvalid,
                $"{what} is not a valid ONNX model: it has no graph.{Hint(bytes)}",
                file);
        }

        return model;
    }

    private static string Hint(byte[] bytes)
    {
        string head = Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 64));
        return head.StartsWith("version https://git-lfs", StringComparison.Ordinal)
            ? " The file is a Git LFS pointer: run 'git lfs pull' to fetch the real model."
            : " Check that it is an .onnx file and was not truncated or altered.";
    }

    private static void WriteModel(ModelProto model, PendingFile file)
    {
        using FileStream stream = file.OpenWrite();
        model.WriteTo(stream);
        stream.Flush(flushToDisk: true);
    }

    private static void ThrowIfTooLarge(ModelProto model, OnnxSaveOptions options, string? path, bool afterExternalizing)
    {
        if (Fits(model, options.SizeLimitBytes))
        {
            return;
        }

        string advice = afterExternalizing
            ? $"Even with tensors of {options.MinExternalTensorBytes} bytes or more in external data it does not fit; lower MinExternalTensorBytes."
            : "Save it with external data (ExternalData = Auto or Always) so the weights go to a separate file.";
        throw new CompressException(
            DiagnosticCodes.ModelTooLarge,
            string.Create(CultureInfo.InvariantCulture, $"The model is larger than the {options.SizeLimitBytes}-byte limit of a protobuf message. {advice}"),
            path);
    }

    private static void EnsureNoExternalReferences(ModelProto model, string? path)
    {
        foreach (OnnxTensorSite site in OnnxModelWalker.Tensors(model))
        {
            if (TensorData.IsExternal(site.Tensor))
            {
                throw new CompressException(
                    DiagnosticCodes.ModelWriteFailed,
                    $"{site.Description} still refers to external data that was never loaded. Load the model with OnnxLoadOptions.LoadExternalData = true before saving it.",
                    path);
            }
        }
    }

    private static void ValidateDataFileName(string dataFileName, string modelFileName, string path)
    {
        string? problem = ExternalDataLocation.Problem(dataFileName);
        if (problem is null && (dataFileName.Contains('/', StringComparison.Ordinal) || dataFileName.Contains('\\', StringComparison.Ordinal)
            || dataFileName is "." or ".." || dataFileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0))
        {
            problem = "it must be a plain file name without folders";
        }

        if (problem is null && string.Equals(dataFileName, modelFileName, StringComparison.OrdinalIgnoreCase))
        {
            problem = "it is the model file itself";
        }

        if (problem is not null)
        {
            throw new CompressException(
                DiagnosticCodes.ExternalDataLocationInvalid,
                $"External data file name '{dataFileName}' is not allowed: {problem}. Use a file name such as '{modelFileName}.data'.",
                path);
        }
    }

    private static void ValidateOptions(OnnxSaveOptions options)
    {
        if (options.ExternalDataAlignment < 1 || (options.ExternalDataAlignment & (options.ExternalDataAlignment - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ExternalDataAlignment, "ExternalDataAlignment must be a power of two (1 = no padding).");
        }

        if (options.MinExternalTensorBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MinExternalTensorBytes, "MinExternalTensorBytes must not be negative.");
        }
    }
}
