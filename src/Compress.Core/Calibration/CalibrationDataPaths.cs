using System.Text;
using System.Text.RegularExpressions;

namespace Compress.Core.Calibration;

/// <summary>
/// Expands calibration data paths: a file, a folder or a glob (<c>data/*.npz</c>,
/// <c>data/**/input_*.pb</c>). Results are sorted ordinally, so the same files give the same
/// sample order on every machine.
/// </summary>
public static class CalibrationDataPaths
{
    private static readonly char[] Wildcards = ['*', '?', '['];

    /// <summary>True when <paramref name="path"/> contains a glob wildcard (<c>*</c>, <c>?</c> or <c>[</c>).</summary>
    public static bool IsGlob(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.IndexOfAny(Wildcards) >= 0;
    }

    /// <summary>
    /// The files and folders matching <paramref name="pattern"/>, full paths sorted ordinally. In a
    /// segment <c>*</c> matches any run of characters except the separator, <c>?</c> one character,
    /// <c>[abc]</c> one of a set; a whole segment <c>**</c> matches any number of folders (also none).
    /// Relative patterns are resolved against <paramref name="baseDirectory"/> (default: current folder).
    /// A pattern without wildcards returns the path itself when it exists.
    /// </summary>
    public static IReadOnlyList<string> ExpandGlob(string pattern, string? baseDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        string full = Path.GetFullPath(pattern.Replace('\\', '/'), baseDirectory ?? Directory.GetCurrentDirectory());
        if (!IsGlob(full))
        {
            return File.Exists(full) || Directory.Exists(full) ? [full] : [];
        }

        string[] segments = full.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        int first = Array.FindIndex(segments, s => s.IndexOfAny(Wildcards) >= 0);
        string root = string.Join(Path.DirectorySeparatorChar, segments[..first]);
        if (root.Length == 0)
        {
            root = Path.DirectorySeparatorChar.ToString();
        }

        var matches = new SortedSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(root))
        {
            Match(root, segments.AsSpan(first).ToArray(), matches);
        }

        return [.. matches];
    }

    private static void Match(string folder, string[] rest, SortedSet<string> matches)
    {
        string segment = rest[0];
        string[] tail = rest[1..];
        if (segment == "**")
        {
            // '**' matches no folder (continue here) or any folder below (stay on '**').
            if (tail.Length == 0)
            {
                AddAll(folder, matches);
                return;
            }

            Match(folder, tail, matches);
            foreach (string sub in SafeEntries(folder, directories: true))
            {
                Match(sub, rest, matches);
            }

            return;
        }

        var regex = new Regex(SegmentRegex(segment), RegexOptions.CultureInvariant);
        bool last = tail.Length == 0;
        IEnumerable<string> candidates = last
            ? SafeEntries(folder, directories: true).Concat(SafeEntries(folder, directories: false))
            : SafeEntries(folder, directories: true);
        foreach (string entry in candidates)
        {
            if (!regex.IsMatch(Path.GetFileName(entry)))
            {
                continue;
            }

            if (last)
            {
                matches.Add(entry);
            }
            else
            {
                Match(entry, tail, matches);
            }
        }
    }

    private static void AddAll(string folder, SortedSet<string> matches)
    {
        foreach (string file in SafeEntries(folder, directories: false))
        {
            matches.Add(file);
        }

        foreach (string sub in SafeEntries(folder, directories: true))
        {
            AddAll(sub, matches);
        }
    }

    private static string[] SafeEntries(string folder, bool directories)
    {
        try
        {
            return directories ? Directory.GetDirectories(folder) : Directory.GetFiles(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string SegmentRegex(string segment)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < segment.Length; i++)
        {
            char c = segment[i];
            switch (c)
            {
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    int close = segment.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        sb.Append(@"\[");
                        break;
                    }

                    string set = segment[(i + 1)..close];
                    sb.Append('[').Append(set.StartsWith('!') ? "^" + Regex.Escape(set[1..]) : Regex.Escape(set)).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.Append('$').ToString();
    }
}
