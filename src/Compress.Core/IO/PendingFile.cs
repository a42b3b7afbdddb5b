using System.Text.RegularExpressions;

namespace Compress.Core.IO;

/// <summary>
/// A temporary file beside a target that replaces the target only on <see cref="Commit"/>; disposing
/// without committing deletes it. Same folder, so the final rename never crosses file systems.
/// </summary>
internal sealed partial class PendingFile : IDisposable
{
    private bool _committed;

    public PendingFile(string targetPath)
    {
        TargetPath = targetPath;
        string folder = Path.GetDirectoryName(targetPath) ?? ".";
        TempPath = Path.Combine(folder, $".{Path.GetFileName(targetPath)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Whether <paramref name="fileName"/> has the shape of a temporary name given above: <c>.&lt;target&gt;.&lt;32 hex&gt;.tmp</c>.</summary>
    public static bool IsTempFileName(string fileName) => TempFileName().IsMatch(fileName);

    public string TargetPath { get; }

    public string TempPath { get; }

    /// <summary>Creates the temporary file (never an existing one).</summary>
    public FileStream OpenWrite() => new(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);

    /// <summary>Moves the temporary file over the target.</summary>
    public void Commit()
    {
        File.Move(TempPath, TargetPath, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed)
        {
            try
            {
                File.Delete(TempPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: the original error (if any) matters more than a leftover temp file.
            }
        }
    }

    [GeneratedRegex(@"^\..+\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant)]
    private static partial Regex TempFileName();
}
