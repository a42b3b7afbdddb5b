using Compress.Core.Pipeline;

namespace Compress.Cli.Tests;

/// <summary>The progress renderers of <c>compress run</c>, drawing into a <see cref="StringWriter"/>.</summary>
public sealed class ProgressDisplayTests
{
    private static readonly string[] ExpectedLines =
    [
        "compress: ocr-det: calibrating 52/100 (52%)",
        "compress: ocr-det: calibrating 100/100 (100%)",
        "compress: ocr-det: evaluating 1/2 (50%)",
    ];

    private static PipelineProgress Calibrating(int done) => new("ocr-det", "calibrating", done, 100);

    [Test]
    public void BarShowsFilledCellsPercentActivityModelAndCounts()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TerminalProgressBar.Render(Calibrating(52), 120), Is.EqualTo("[##########..........]  52% calibrating ocr-det (52/100)"));
            Assert.That(TerminalProgressBar.Render(Calibrating(0), 120), Is.EqualTo("[....................]   0% calibrating ocr-det (0/100)"));
            Assert.That(TerminalProgressBar.Render(Calibrating(100), 120), Is.EqualTo("[####################] 100% calibrating ocr-det (100/100)"));
        });
    }

    [Test]
    public void BarIsCutBelowTheTerminalWidthSoItNeverWraps()
    {
        string line = TerminalProgressBar.Render(Calibrating(52), 30);

        Assert.That(line, Is.EqualTo("[##########..........]  52% c"));
    }

    [Test]
    public void BarRedrawsInPlaceAndErasesItselfWhenTheStepEnds()
    {
        using var writer = new StringWriter();
        var bar = new TerminalProgressBar(writer, 120);

        bar.Show(Calibrating(5));
        bar.Show(Calibrating(5));
        bar.Show(Calibrating(52));
        bar.Show(Calibrating(100));

        string five = TerminalProgressBar.Render(Calibrating(5), 120);
        string fiftyTwo = TerminalProgressBar.Render(Calibrating(52), 120);
        // Drawn once for 5 % (the repeat changes nothing), redrawn for 52 %, erased when the step ends.
        string expected = "\r" + five + "\r" + fiftyTwo + "\r" + new string(' ', fiftyTwo.Length) + "\r";
        Assert.That(writer.ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void ClearErasesADrawnBarOnlyOnce()
    {
        using var writer = new StringWriter();
        var bar = new TerminalProgressBar(writer, 120);
        bar.Show(Calibrating(10));
        int drawn = writer.ToString().Length;

        bar.Clear();
        bar.Clear();

        string line = TerminalProgressBar.Render(Calibrating(10), 120);
        Assert.That(writer.ToString()[drawn..], Is.EqualTo("\r" + new string(' ', line.Length) + "\r"));
    }

    [Test]
    public void PlainLinesWithoutIntervalPrintEveryUpdateAsAWholeLine()
    {
        using var writer = new StringWriter();
        var lines = new PlainProgressLines(writer, TimeSpan.Zero);

        lines.Show(Calibrating(52));
        lines.Show(Calibrating(100));
        lines.Show(new PipelineProgress("ocr-det", "evaluating", 1, 2));

        Assert.Multiple(() =>
        {
            Assert.That(writer.ToString(), Does.Not.Contain('\r'));
            Assert.That(
                writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries),
                Is.EqualTo(ExpectedLines));
        });
    }

    [Test]
    public void PlainLinesSkipStepsShorterThanTheInterval()
    {
        using var writer = new StringWriter();
        var lines = new PlainProgressLines(writer, TimeSpan.FromHours(1));

        for (int done = 0; done <= 100; done += 10)
        {
            lines.Show(Calibrating(done));
        }

        Assert.That(writer.ToString(), Is.Empty);
    }
}
