using Compress.Core.Diagnostics;

namespace Compress.Core.Spec;

/// <summary>Outcome of loading a spec: the typed spec when valid, and every diagnostic found.</summary>
public sealed class SpecLoadResult
{
    /// <summary>Creates a result; <paramref name="spec"/> must be null when a diagnostic is an error.</summary>
    public SpecLoadResult(CompressSpec? spec, IReadOnlyList<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(diagnostics);
        if (spec is not null && diagnostics.Any(d => d.IsError))
        {
            throw new ArgumentException("A spec with errors must not be returned.", nameof(spec));
        }

        Spec = spec;
        Diagnostics = diagnostics;
    }

    /// <summary>The validated spec, or null when there were errors.</summary>
    public CompressSpec? Spec { get; }

    /// <summary>Errors (and later warnings) in file order.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics { get; }

    /// <summary>True when the spec loaded without errors.</summary>
    public bool Succeeded => Spec is not null;
}
