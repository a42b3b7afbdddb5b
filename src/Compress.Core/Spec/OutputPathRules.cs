namespace Compress.Core.Spec;

/// <summary>
/// Normalises an <c>output</c> path: relative, forward slashes, '.' and '..' resolved, and never outside the
/// output folder (the build must not overwrite files elsewhere).
/// </summary>
internal static class OutputPathRules
{
    // Characters Windows refuses in file names; rejected everywhere so a spec works on every OS.
    private static readonly System.Buffers.SearchValues<char> ForbiddenCharacters = System.Buffers.SearchValues.Create("<>:\"|?*");

    /// <summary>The outcome of <see cref="Normalize"/>: a path, or the reason it is rejected.</summary>
    public enum Verdict
    {
        Valid,
        Escapes,
        Invalid,
    }

    /// <summary>Normalises <paramref name="path"/>; on failure <paramref name="reason"/> says why.</summary>
    public static Verdict Normalize(string path, out string normalized, out string reason)
    {
        normalized = string.Empty;
        reason = string.Empty;
        string slashed = path.Replace('\\', '/');
        if (slashed.StartsWith('/') || (slashed.Length >= 2 && char.IsAsciiLetter(slashed[0]) && slashed[1] == ':'))
        {
            reason = "it is absolute; give a path relative to the output folder";
            return Verdict.Escapes;
        }

        var segments = new List<string>();
        foreach (string segment in slashed.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count == 0)
                {
                    reason = "it leads out of the output folder";
                    return Verdict.Escapes;
                }

                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            if (segment.AsSpan().ContainsAny(ForbiddenCharacters) || segment.Any(char.IsControl) || segment.EndsWith('.') || segment.EndsWith(' '))
            {
                reason = $"'{segment}' is not a portable file or folder name (no < > : \" | ? * or control characters, no trailing '.' or space)";
                return Verdict.Invalid;
            }

            segments.Add(segment);
        }

        if (segments.Count == 0 || slashed.EndsWith('/'))
        {
            reason = "it names a folder, not a file";
            return Verdict.Invalid;
        }

        normalized = string.Join('/', segments);
        return Verdict.Valid;
    }
}
