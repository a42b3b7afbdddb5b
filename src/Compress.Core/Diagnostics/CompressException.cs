namespace Compress.Core.Diagnostics;

/// <summary>
/// A failure the user can act on. Carries a <see cref="Diagnostic"/> with a stable code; front ends
/// (CLI, MSBuild task) print the diagnostic instead of a stack trace.
/// </summary>
public sealed class CompressException : Exception
{
    public CompressException(Diagnostic diagnostic, Exception? inner = null)
        : base(diagnostic.Message, inner) => Diagnostic = diagnostic;

    public CompressException(string code, string message, string? file = null, Exception? inner = null)
        : this(Diagnostic.Error(code, message, file), inner)
    {
    }

    public Diagnostic Diagnostic { get; }
}
