namespace Compress.Runtime.Tests;

/// <summary>Edits serialized ONNX models in memory without an ONNX library.</summary>
internal static class ModelBytes
{
    /// <summary>
    /// The model with extra <c>metadata_props</c> entries: protobuf merges repeated fields appended to a
    /// message, so appending ModelProto field 14 entries adds them.
    /// </summary>
    public static byte[] WithMetadata(byte[] model, params (string Key, string Value)[] entries)
    {
        var result = new List<byte>(model);
        foreach ((string key, string value) in entries)
        {
            byte[] entry = [.. LengthDelimited(1, System.Text.Encoding.UTF8.GetBytes(key)), .. LengthDelimited(2, System.Text.Encoding.UTF8.GetBytes(value))];
            result.AddRange(LengthDelimited(14, entry));
        }

        return [.. result];
    }

    private static byte[] LengthDelimited(int field, byte[] payload)
    {
        // Keys, values and entries here are shorter than 128 bytes, so each varint is one byte.
        if (payload.Length >= 128)
        {
            throw new ArgumentException("Payloads of 128 bytes or more need a longer varint.", nameof(payload));
        }

        return [(byte)((field << 3) | 2), (byte)payload.Length, .. payload];
    }
}
