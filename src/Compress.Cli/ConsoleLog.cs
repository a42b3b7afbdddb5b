using Compress.Core.Diagnostics;
using Compress.Core.Pipeline;

namespace Compress.Cli;

/// <summary>Progress to stdout; diagnostics in MSBuild canonical form to stderr.</summary>
internal sealed class ConsoleLog : IPipelineLog
{
    public static void Write(Diagnostic diagnostic) => Console.Error.WriteLine(diagnostic.ToString());

    public void Info(string message) => Console.Out.WriteLine(message);

    public void Report(Diagnostic diagnostic) => Write(diagnostic);
}
