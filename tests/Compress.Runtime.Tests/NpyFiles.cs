using System.Text;

namespace Compress.Runtime.Tests;

/// <summary>Builds small .npy files in memory (format 1.0) for reader tests.</summary>
internal static class NpyFiles
{
    public static byte[] Create(string header, ReadOnlySpan<byte> data)
    {
        // Pad the header with spaces so that magic + version + length + header ends on a 64-byte boundary.
        int unpadded = 10 + header.Length + 1;
        string padded = header + new string(' ', ((unpadded + 63) / 64 * 64) - unpadded) + "\n";
        byte[] headerBytes = Encoding.Latin1.GetBytes(padded);
        return [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0,
            (byte)(headerBytes.Length & 0xFF), (byte)(headerBytes.Length >> 8), .. headerBytes, .. data];
    }
}
