using Compress.Core.Diagnostics;

namespace Compress.Core.Spec;

/// <summary>
/// A position in a spec file, 1-based like MSBuild and editors. Line 0 means "the file as a whole".
/// </summary>
/// <param name="File">Full path of the file.</param>
/// <param name="Line">1-based line, or 0 when unknown.</param>
/// <param name="Column">1-based column, or 0 when unknown.</param>
public readonly record struct SourceLocation(string File, int Line, int Column)
{
    /// <summary>No position: used for specs built in code rather than loaded from a file.</summary>
    public static SourceLocation Unknown { get; } = new(string.Empty, 0, 0);

    /// <summary>An error diagnostic at this position (no file when the location is <see cref="Unknown"/>).</summary>
    public Diagnostic Error(string code, string message) =>
        Diagnostic.Error(code, message, NullIfEmpty(File), Line, Column);

    /// <summary>A warning diagnostic at this position (no file when the location is <see cref="Unknown"/>).</summary>
    public Diagnostic Warning(string code, string message) =>
        Diagnostic.Warning(code, message, NullIfEmpty(File), Line, Column);

    private static string? NullIfEmpty(string? file) => string.IsNullOrEmpty(file) ? null : file;
}
