using Compress.Core.Diagnostics;

namespace Compress.Core.IO;

/// <summary>
/// Writes a whole file so that readers (and a killed build) never see half of it: the content goes
/// to a <see cref="PendingFile"/> beside the target, which is renamed over the target when complete.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, byte[] content) => Write(path, stream => stream.Write(content));

    public static void Write(string path, Action<Stream> writeContent)
    {
        string fullPath = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
            using var pending = new PendingFile(fullPath);
            using (FileStream stream = pending.OpenWrite())
            {
                writeContent(stream);
                stream.Flush(flushToDisk: true);
            }

            pending.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCodes.ModelWriteFailed, $"Could not write '{fullPath}': {e.Message}", fullPath, e);
        }
    }
}
