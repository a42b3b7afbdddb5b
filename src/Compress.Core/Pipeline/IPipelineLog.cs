using Compress.Core.Diagnostics;

namespace Compress.Core.Pipeline;

/// <summary>Where the pipeline reports progress and diagnostics (console, MSBuild, tests).</summary>
public interface IPipelineLog
{
    void Info(string message);

    void Report(Diagnostic diagnostic);

    /// <summary>
    /// Progress of a long step, reported often (after every batch or layer); logs that show no progress
    /// ignore it, which is what the default does.
    /// </summary>
    void Progress(PipelineProgress progress)
    {
    }
}
