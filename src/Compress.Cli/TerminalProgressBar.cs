using System.Globalization;
using Compress.Core.Pipeline;

namespace Compress.Cli;

/// <summary>
/// A one-line progress bar for an interactive terminal, redrawn in place with a carriage return:
/// <c>[#####.....]  52% calibrating ocr-det (52/100)</c>. A finished step erases its bar, so only messages remain
/// in the scrollback.
/// </summary>
internal sealed class TerminalProgressBar(TextWriter writer, int width) : IProgressDisplay
{
    private const int BarCells = 20;

    private string drawn = "";

    /// <summary>The line drawn for <paramref name="progress"/>, cut to <paramref name="width"/> − 1 characters so it never wraps.</summary>
    public static string Render(PipelineProgress progress, int width)
    {
        int filled = (int)Math.Floor(progress.Fraction * BarCells);
        int percent = (int)Math.Floor(progress.Fraction * 100);
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', BarCells - filled)}] {percent,3}% {progress.Activity} {progress.Model} ({progress.Done}/{progress.Total})");
        int room = Math.Max(1, width - 1);
        return line.Length <= room ? line : line[..room];
    }

    public void Show(PipelineProgress progress)
    {
        if (progress.IsComplete)
        {
            Clear();
            return;
        }

        string line = Render(progress, width);
        if (line == drawn)
        {
            return;
        }

        // Spaces over the rest of a longer previous line instead of clearing first, so the bar does not flicker.
        writer.Write("\r" + line + new string(' ', Math.Max(0, drawn.Length - line.Length)));
        writer.Flush();
        drawn = line;
    }

    public void Clear()
    {
        if (drawn.Length == 0)
        {
            return;
        }

        writer.Write("\r" + new string(' ', drawn.Length) + "\r");
        writer.Flush();
        drawn = "";
    }
}
