namespace Compress.Core.Diagnostics;

/// <summary>How serious a diagnostic is; maps one to one onto MSBuild's error/warning/message.</summary>
public enum DiagnosticSeverity
{
    Error,
    Warning,
    Info,
}
