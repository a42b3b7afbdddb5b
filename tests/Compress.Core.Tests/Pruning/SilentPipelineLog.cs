using Compress.Core.Diagnostics;
using Compress.Core.Pipeline;

namespace Compress.Core.Tests.Pruning;

/// <summary>A pipeline log that drops everything: the tests read the <see cref="PipelineResult"/> instead.</summary>
internal sealed class SilentPipelineLog : IPipelineLog
{
    public void Info(string message)
    {
    }

    public void Report(Diagnostic diagnostic)
    {
    }
}
