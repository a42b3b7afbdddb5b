using Compress.Core.Spec;

namespace Compress.Core.IO;

/// <summary>
/// File-system globs for data files (calibration, reconstruction, evaluation): <c>*</c> matches any run of characters within one folder or file
/// name, <c>?</c> exactly one character, and a whole segment <c>**</c> any number of folders (also none).
/// Both '/' and '\' separate folders. Matching is case-sensitive except on Windows.
/// </summary>
public static class PathGlob
{
    /// <summary>Whether <paramref name="path"/> contains a wildcard and so is a glob.</summary>
    public static bool IsGlob(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.AsSpan().IndexOfAny('*', '?') >= 0;
    }

    /// <summary>
    /// The files and folders matching an absolute glob, as full paths sorted ordinally (so runs are
    /// deterministic); empty when nothing matches or the folder before the first wildcard does not exist.
    /// </summary>
    public static IReadOnlyList<string> Expand(string fullPathGlob)
    {
        ArgumentNullException.ThrowIfNull(fullPathGlob);
        string normalized = fullPathGlob.Replace('\\', '/');
        string[] segments = normalized.Split('/');
        int firstWild = Array.FindIndex(segments, s => IsGlob(s));
        if (firstWild < 0)
        {
            string plain = normalized.Replace('/', Path.DirectorySeparatorChar);
            return File.Exists(plain) || Directory.Exists(plain) ? [Path.GetFullPath(plain)] : [];
        }

        // "/data/x" splits into "", "data", "x": the empty first segment stands for the root.
        string root = string.Join('/', segments[..firstWild]);
        root = root.Length == 0 ? "/" : root;
        if (!Directory.Exists(root))
        {
            return [];
        }

        var matches = new SortedSet<string>(StringComparer.Ordinal);
        Walk(Path.GetFullPath(root), segments, firstWild, matches);
        return [.. matches];
    }

    private static void Walk(string folder, string[] segments, int index, SortedSet<string> matches)
    {
        string segment = segments[index];
        bool last = index == segments.Length - 1;
        if (segment == "**")
        {
            // Zero folders: the rest of the pattern applies here; more: descend into every subfolder.
            if (last)
            {
                AddTree(folder, matches);
                return;
            }

            Walk(folder, segments, index + 1, matches);
            foreach (string sub in SafeEntries(folder, folders: true))
            {
                Walk(sub, segments, index, matches);
            }

            return;
        }

        if (segment.Length == 0 || segment == ".")
        {
            if (last)
            {
                matches.Add(folder);
            }
            else
            {
                Walk(folder, segments, index + 1, matches);
            }

            return;
        }

        if (!IsGlob(segment))
        {
            string next = Path.Combine(folder, segment);
            if (last)
            {
                if (File.Exists(next) || Directory.Exists(next))
                {
                    matches.Add(Path.GetFullPath(next));
                }
            }
            else if (Directory.Exists(next))
            {
                Walk(Path.GetFullPath(next), segments, index + 1, matches);
            }

            return;
        }

        foreach (string entry in SafeEntries(folder, folders: !last))
        {
            if (!IsNameMatch(segment, Path.GetFileName(entry)))
            {
                continue;
            }

            if (last)
            {
                matches.Add(entry);
            }
            else
            {
                Walk(entry, segments, index + 1, matches);
            }
        }
    }

    private static void AddTree(string folder, SortedSet<string> matches)
    {
        foreach (string entry in SafeEntries(folder, folders: false))
        {
            matches.Add(entry);
        }

        foreach (string sub in SafeEntries(folder, folders: true))
        {
            AddTree(sub, matches);
        }
    }

    /// <summary>Subfolders (or, with folders false, files and subfolders) of a folder; none when it cannot be read.</summary>
    private static string[] SafeEntries(string folder, bool folders)
    {
        try
        {
            return folders ? Directory.GetDirectories(folder) : Directory.GetFileSystemEntries(folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool IsNameMatch(string glob, string name) =>
        OperatingSystem.IsWindows()
            ? NodeNameGlob.IsMatch(glob.ToUpperInvariant(), name.ToUpperInvariant())
            : NodeNameGlob.IsMatch(glob, name);
}
