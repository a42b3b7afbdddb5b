using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Compress.Core.Pipeline;

/// <summary>A SHA-256 over lines of text and the bytes of files, for content-addressed cache keys.</summary>
internal sealed class ContentHash : IDisposable
{
    private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] buffer = new byte[1 << 16];

    public void AppendLine(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));

    /// <summary>
    /// Appends each file's name, length and bytes. Order and file name are part of the key (calibration reads
    /// files in order; input_N.pb names matter).
    /// </summary>
    public void AppendFiles(IEnumerable<string> files)
    {
        foreach (string file in files)
        {
            AppendLine(Path.GetFileName(file));
            using FileStream stream = new(file, FileMode.Open, FileAccess.Read, FileShare.Read, buffer.Length, FileOptions.SequentialScan);
            AppendLine(stream.Length.ToString(CultureInfo.InvariantCulture));
            int read;
            while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
    }

    /// <summary>The hash as 64 lowercase hex digits.</summary>
    public string Finish() => Convert.ToHexStringLower(hash.GetHashAndReset());

    public void Dispose() => hash.Dispose();
}
