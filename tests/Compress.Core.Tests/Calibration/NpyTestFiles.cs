using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Compress.Core.Tests.Calibration;

/// <summary>Writes .npy (format 1.0) and uncompressed .npz files for the calibration tests.</summary>
internal static class NpyTestFiles
{
    public static void WriteFloats(string path, long[] shape, ReadOnlySpan<float> values) =>
        File.WriteAllBytes(path, Create("<f4", shape, MemoryMarshal.AsBytes(values)));

    public static byte[] Create(string descr, long[] shape, ReadOnlySpan<byte> data)
    {
        string dims = shape.Length == 1
            ? $"{shape[0]},"
            : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        string header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 10 + header.Length + 1;
        string padded = header + new string(' ', ((unpadded + 63) / 64 * 64) - unpadded) + "\n";
        byte[] headerBytes = Encoding.Latin1.GetBytes(padded);
        return [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0,
            (byte)(headerBytes.Length & 0xFF), (byte)(headerBytes.Length >> 8), .. headerBytes, .. data];
    }

    /// <summary>Writes an .npz whose entries are <c>name.npy</c> with the given .npy bytes.</summary>
    public static void WriteNpz(string path, IReadOnlyDictionary<string, byte[]> arrays)
    {
        using FileStream stream = File.Create(path);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create);
        foreach ((string name, byte[] bytes) in arrays)
        {
            ZipArchiveEntry entry = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
            using Stream content = entry.Open();
            content.Write(bytes);
        }
    }

    public static byte[] Floats(long[] shape, float[] values) => Create("<f4", shape, MemoryMarshal.AsBytes(values.AsSpan()));
}
