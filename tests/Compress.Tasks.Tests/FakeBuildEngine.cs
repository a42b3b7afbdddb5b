using System.Collections;
using Microsoft.Build.Framework;

namespace Compress.Tasks.Tests;

/// <summary>Collects the events a task logs, for assertions.</summary>
internal sealed class FakeBuildEngine : IBuildEngine
{
    private readonly object _gate = new();

    public List<BuildErrorEventArgs> Errors { get; } = [];

    public List<BuildWarningEventArgs> Warnings { get; } = [];

    public List<BuildMessageEventArgs> Messages { get; } = [];

    public bool ContinueOnError => false;

    public int LineNumberOfTaskNode => 0;

    public int ColumnNumberOfTaskNode => 0;

    public string ProjectFileOfTaskNode => "fake.proj";

    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) =>
        throw new NotSupportedException();

    public void LogCustomEvent(CustomBuildEventArgs e)
    {
    }

    public void LogErrorEvent(BuildErrorEventArgs e)
    {
        lock (_gate)
        {
            Errors.Add(e);
        }
    }

    public void LogMessageEvent(BuildMessageEventArgs e)
    {
        lock (_gate)
        {
            Messages.Add(e);
        }
    }

    public void LogWarningEvent(BuildWarningEventArgs e)
    {
        lock (_gate)
        {
            Warnings.Add(e);
        }
    }

    /// <summary>Everything logged, one line per event, for failure messages.</summary>
    public string Transcript()
    {
        lock (_gate)
        {
            return string.Join(
                Environment.NewLine,
                Errors.Select(e => $"error {e.Code}: {e.Message}")
                    .Concat(Warnings.Select(w => $"warning {w.Code}: {w.Message}"))
                    .Concat(Messages.Select(m => $"message: {m.Message}")));
        }
    }
}
