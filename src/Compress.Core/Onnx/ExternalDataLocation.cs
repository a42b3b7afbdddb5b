using Compress.Core.Diagnostics;

namespace Compress.Core.Onnx;

/// <summary>
/// Checks the <c>location</c> of external tensor data. ONNX requires a path relative to the model's
/// folder; anything absolute or leading outside that folder is refused, so a downloaded model cannot
/// make the build read (or, on save, write) arbitrary files.
/// </summary>
internal static class ExternalDataLocation
{
    /// <summary>The full path of <paramref name="location"/> inside <paramref name="baseDirectory"/>, or CMP1003.</summary>
    public static string Resolve(string baseDirectory, string location, string tensorDescription, string? modelFile)
    {
        string? problem = Problem(location);
        string baseFull = Path.GetFullPath(baseDirectory);
        string full = problem is null ? Path.GetFullPath(Path.Combine(baseFull, Normalize(location))) : string.Empty;
        if (problem is null && !IsInside(baseFull, full))
        {
            problem = "it leads outside the model's folder";
        }

        if (problem is not null)
        {
            throw new CompressException(
                DiagnosticCodes.ExternalDataLocationInvalid,
                $"External data of {tensorDescription} has location '{location}', which is not allowed: {problem}. " +
                "Locations must be relative paths inside the model's folder; re-export the model with its data file beside it.",
                modelFile);
        }

        return full;
    }

    /// <summary>Why <paramref name="location"/> is unusable regardless of the base folder, or null.</summary>
    public static string? Problem(string location)
    {
        if (string.IsNullOrWhiteSpace(location))
        {
            return "it is empty";
        }

        if (location.Contains('\0', StringComparison.Ordinal))
        {
            return "it contains a NUL character";
        }

        string normalized = Normalize(location);
        if (Path.IsPathRooted(normalized) || normalized.StartsWith('/') || (normalized.Length >= 2 && normalized[1] == ':'))
        {
            return "it is an absolute path";
        }

        return null;
    }

    /// <summary>Windows-written models may use backslashes; treat them as folder separators everywhere.</summary>
    private static string Normalize(string location) => location.Replace('\\', '/');

    private static bool IsInside(string baseFull, string full)
    {
        string prefix = Path.EndsInDirectorySeparator(baseFull) ? baseFull : baseFull + Path.DirectorySeparatorChar;
        StringComparison comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase
            : StringComparison.Ordinal;
        return full.StartsWith(prefix, comparison) && full.Length > prefix.Length;
    }
}
