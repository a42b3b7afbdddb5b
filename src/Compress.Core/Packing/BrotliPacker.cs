using System.IO.Compression;
using Compress.Core.Diagnostics;
using Compress.Core.IO;

namespace Compress.Core.Packing;

/// <summary>
/// Brotli packing of model files: quality 11 with the largest standard window, which compresses the
/// runs of zeros left by pruning and the repeated bytes of quantized weights well. The encoder is
/// deterministic, so the same model gives the same bytes.
/// </summary>
public static class BrotliPacker
{
    /// <summary>The extension appended to the model file name.</summary>
    public const string Extension = ".br";

    /// <summary>Brotli quality (0..11).</summary>
    public const int Quality = 11;

    /// <summary>Brotli window bits (10..24).</summary>
    public const int WindowBits = 24;

    /// <summary>The Brotli-compressed form of <paramref name="content"/>.</summary>
    public static byte[] Compress(ReadOnlySpan<byte> content)
    {
        var destination = new byte[BrotliEncoder.GetMaxCompressedLength(content.Length)];
        if (!BrotliEncoder.TryCompress(content, destination, out int written, Quality, WindowBits))
        {
            throw new InvalidOperationException("Brotli compression failed.");
        }

        return destination[..written];
    }

    /// <summary>Decompresses Brotli data (used by tests and tools to check a packed file).</summary>
    public static byte[] Decompress(ReadOnlySpan<byte> packed)
    {
        using var input = new MemoryStream(packed.ToArray());
        using var brotli = new BrotliStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        brotli.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>
    /// Writes <c><paramref name="modelPath"/>.br</c> (atomically) and returns its path.
    /// </summary>
    /// <exception cref="CompressException">CMP1006 when the model uses external data, which a single packed file cannot carry, or the file cannot be written.</exception>
    public static string PackFile(string modelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        if (File.Exists(modelPath + ".data"))
        {
            throw new CompressException(DiagnosticCodes.ModelWriteFailed, $"'pack: brotli' cannot pack '{Path.GetFileName(modelPath)}': its weights are in external data, which one .onnx.br file cannot carry.", modelPath);
        }

        string packedPath = modelPath + Extension;
        AtomicFile.WriteAllBytes(packedPath, Compress(File.ReadAllBytes(modelPath)));
        return packedPath;
    }
}
