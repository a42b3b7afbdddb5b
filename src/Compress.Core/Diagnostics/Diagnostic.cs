using System.Globalization;

namespace Compress.Core.Diagnostics;

/// <summary>
/// One message for the user, with a stable code and, when known, the file position it is about.
/// <see cref="ToString"/> renders the MSBuild canonical form
/// (<c>path(line,col): error CMP0001: message</c>), which MSBuild's ToolTask and IDEs parse.
/// </summary>
public sealed record Diagnostic(
    DiagnosticSeverity Severity,
    string Code,
    string Message,
    string? File = null,
    int Line = 0,
    int Column = 0)
{
    public static Diagnostic Error(string code, string message, string? file = null, int line = 0, int column = 0) =>
        new(DiagnosticSeverity.Error, code, message, file, line, column);

    public static Diagnostic Warning(string code, string message, string? file = null, int line = 0, int column = 0) =>
        new(DiagnosticSeverity.Warning, code, message, file, line, column);

    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString()
    {
        string origin = File is null
            ? "compress"
            : Line > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{File}({Line},{Math.Max(Column, 1)})")
                : File;
        string severity = Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "info",
        };
        return $"{origin}: {severity} {Code}: {Message}";
    }
}
