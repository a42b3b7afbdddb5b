using System.Globalization;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;
using Microsoft.Win32.SafeHandles;

namespace Compress.Core.Onnx;

/// <summary>
/// Reads every external tensor of a model into <c>raw_data</c> (see <see cref="OnnxModelFile.Load(string, OnnxLoadOptions?)"/>),
/// the values and indices of sparse tensors included, wherever they are; each location must stay inside the model's folder (CMP1003).
/// </summary>
internal static class ExternalDataReader
{
    public static void LoadAll(ModelProto model, string? baseDirectory, string? modelFile)
    {
        var external = OnnxModelWalker.Tensors(model).Where(site => TensorData.IsExternal(site.Tensor)).ToList();
        if (external.Count == 0)
        {
            return;
        }

        if (baseDirectory is null)
        {
            throw new CompressException(
                DiagnosticCodes.ExternalDataUnreadable,
                $"The model keeps {external.Count} tensor(s) in external data (first: {external[0].Description}), " +
                "but it was read from a stream without a base directory. Pass the folder of the model file as baseDirectory.",
                modelFile);
        }

        var handles = new Dictionary<string, SafeFileHandle>(StringComparer.Ordinal);
        try
        {
            foreach (OnnxTensorSite site in external)
            {
                Load(site, baseDirectory, modelFile, handles);
            }
        }
        finally
        {
            foreach (SafeFileHandle handle in handles.Values)
            {
                handle.Dispose();
            }
        }
    }

    private static void Load(OnnxTensorSite site, string baseDirectory, string? modelFile, Dictionary<string, SafeFileHandle> handles)
    {
        TensorProto tensor = site.Tensor;
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (StringStringEntryProto entry in tensor.ExternalData)
        {
            switch (entry.Key)
            {
                case "location":
                    location = entry.Value;
                    break;
                case "offset":
                    offset = ParseNumber(entry, site, modelFile);
                    break;
                case "length":
                    length = ParseNumber(entry, site, modelFile);
                    break;
                default:
                    // "checksum" (optional SHA-1, not verified by onnx either) and unknown keys are ignored.
                    break;
            }
        }

        if (location is null)
        {
            throw new CompressException(
                DiagnosticCodes.ExternalDataLocationInvalid,
                $"External data of {site.Description} has no 'location' entry. Re-export the model with its external data.",
                modelFile);
        }

        string path = ExternalDataLocation.Resolve(baseDirectory, location, site.Description, modelFile);
        if (!handles.TryGetValue(path, out SafeFileHandle? handle))
        {
            try
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw Unreadable(site, location, $"the file '{path}' cannot be opened ({e.Message})", modelFile, e);
            }

            handles.Add(path, handle);
        }

        long fileLength = RandomAccess.GetLength(handle);
        long count = length ?? (fileLength - offset);
        if (offset > fileLength || count < 0 || offset + count > fileLength)
        {
            throw Unreadable(
                site,
                location,
                string.Create(CultureInfo.InvariantCulture, $"offset {offset} + length {count} goes beyond the end of the file ({fileLength} bytes); the file is truncated or belongs to another model"),
                modelFile,
                null);
        }

        if (count > Array.MaxLength)
        {
            throw Unreadable(site, location, "a single tensor over 2 GB cannot be held in memory", modelFile, null);
        }

        int elementSize = TensorData.ElementSize(TensorData.TypeOf(tensor));
        long expected = TensorData.ElementCount(tensor) * elementSize;
        if (elementSize > 0 && expected != count)
        {
            throw new CompressException(
                DiagnosticCodes.ModelInvalid,
                string.Create(CultureInfo.InvariantCulture, $"External data of {site.Description} has {count} bytes in '{location}', but its shape and type need {expected}. The model and its data file do not match."),
                modelFile);
        }

        byte[] bytes = new byte[count];
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(read), offset + read);
            if (n == 0)
            {
                throw Unreadable(site, location, "the file ended early", modelFile, null);
            }

            read += n;
        }

        // The array is not shared with anyone else, so wrapping it without a copy is safe.
        tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
        tensor.ExternalData.Clear();
        tensor.ClearDataLocation();
    }

    private static long ParseNumber(StringStringEntryProto entry, OnnxTensorSite site, string? modelFile)
    {
        if (long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
        {
            return value;
        }

        throw new CompressException(
            DiagnosticCodes.ModelInvalid,
            $"External data of {site.Description} has {entry.Key} '{entry.Value}', which is not a non-negative integer.",
            modelFile);
    }

    private static CompressException Unreadable(OnnxTensorSite site, string location, string why, string? modelFile, Exception? inner) =>
        new(
            DiagnosticCodes.ExternalDataUnreadable,
            $"External data of {site.Description} at '{location}' cannot be read: {why}. Copy the model's data file next to the model.",
            modelFile,
            inner);
}
