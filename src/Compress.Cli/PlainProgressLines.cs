using System.Diagnostics;
using System.Globalization;
using Compress.Core.Pipeline;

namespace Compress.Cli;

/// <summary>
/// Progress for redirected output (build logs, CI): whole lines, never carriage returns, at most one per
/// <c>interval</c> and step: <c>compress: ocr-det: calibrating 52/100 (52%)</c>. A step shorter than the interval
/// prints nothing; a step that printed also prints its last update, so the log shows it finished. An interval of
/// zero prints every update.
/// </summary>
internal sealed class PlainProgressLines(TextWriter writer, TimeSpan interval) : IProgressDisplay
{
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private PipelineProgress? last;
    private TimeSpan lastLine;
    private bool printedThisStep;

    public static string Render(PipelineProgress progress) => string.Create(
        CultureInfo.InvariantCulture,
        $"compress: {progress.Model}: {progress.Activity} {progress.Done}/{progress.Total} ({(int)Math.Floor(progress.Fraction * 100)}%)");

    public void Show(PipelineProgress progress)
    {
        TimeSpan now = clock.Elapsed;
        // A new step: the first, another model or activity, or the same activity again (tuning evaluates many times).
        if (last is not { } previous || previous.IsComplete || progress.Model != previous.Model || progress.Activity != previous.Activity || progress.Done < previous.Done)
        {
            lastLine = now;
            printedThisStep = false;
        }

        last = progress;
        bool due = now - lastLine >= interval;
        if (due || (progress.IsComplete && printedThisStep))
        {
            writer.WriteLine(Render(progress));
            lastLine = now;
            printedThisStep = true;
        }
    }

    public void Clear()
    {
    }
}
