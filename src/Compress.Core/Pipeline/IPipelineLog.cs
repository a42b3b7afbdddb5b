using Compress.Core.Diagnostics;

namespace Compress.Core.Pipeline;

/// <summary>Where the pipeline reports progress and diagnostics (console, MSBuild, tests).</summary>
public interface IPipelineLog
{
    void Info(string message);

    void Report(Diagnostic diagnostic);
}
