using Compress.Core.Pipeline;

namespace Compress.Cli;

/// <summary>Shows the progress of long steps while <c>compress run</c> works.</summary>
internal interface IProgressDisplay
{
    /// <summary>Shows (or skips, when too soon) one progress update.</summary>
    void Show(PipelineProgress progress);

    /// <summary>Removes anything drawn that a following message would otherwise overwrite or follow on the same line.</summary>
    void Clear();
}
