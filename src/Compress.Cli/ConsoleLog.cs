using Compress.Core.Diagnostics;
using Compress.Core.Pipeline;

namespace Compress.Cli;

/// <summary>Messages to stdout; diagnostics in MSBuild canonical form to stderr; progress to <paramref name="progress"/>.</summary>
internal sealed class ConsoleLog(IProgressDisplay? progress = null) : IPipelineLog
{
    public static void Write(Diagnostic diagnostic) => Console.Error.WriteLine(diagnostic.ToString());

    public void Info(string message)
    {
        progress?.Clear();
        Console.Out.WriteLine(message);
    }

    public void Report(Diagnostic diagnostic)
    {
        progress?.Clear();
        Write(diagnostic);
    }

    public void Progress(PipelineProgress update) => progress?.Show(update);

    /// <summary>Erases a bar still drawn (e.g. before the process prints its last lines).</summary>
    public void ClearProgress() => progress?.Clear();
}
