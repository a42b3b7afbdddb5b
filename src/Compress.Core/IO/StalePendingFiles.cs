namespace Compress.Core.IO;

/// <summary>
/// Removes the temporary files of <see cref="PendingFile"/> that a killed run left behind (a kill skips the
/// delete on dispose). Conservative, because these folders may hold other files: only names of the pending-file
/// shape, only directly in the given folders, only files last written before this run started, and only when
/// no other process has them open (a concurrent run's pending file is left alone).
/// </summary>
public static class StalePendingFiles
{
    /// <summary>Deletes the stale temporary files in <paramref name="folders"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Remove(IEnumerable<string> folders, DateTime runStartedUtc)
    {
        var removed = new List<string>();
        foreach (string folder in folders.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            if (!Directory.Exists(folder))
            {
                continue;
            }

            foreach (string file in Directory.EnumerateFiles(folder, "*.tmp"))
            {
                if (PendingFile.IsTempFileName(Path.GetFileName(file))
                    && File.GetLastWriteTimeUtc(file) < runStartedUtc
                    && TryDeleteUnused(file))
                {
                    removed.Add(file);
                }
            }
        }

        return removed;
    }

    private static bool TryDeleteUnused(string file)
    {
        try
        {
            // A writer holds its pending file open without sharing, so this open fails while it is in use;
            // DeleteOnClose removes the file while we hold it, leaving no gap for a writer to reopen it.
            using var exclusive = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // In use, or already gone: not ours to remove now.
            return false;
        }
    }
}
