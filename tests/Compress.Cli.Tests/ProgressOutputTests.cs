namespace Compress.Cli.Tests;

/// <summary>
/// Progress of <c>compress run</c> with redirected output, as the MSBuild task runs it: whole lines on stdout,
/// never a carriage return; <c>--no-progress</c> turns them off.
/// </summary>
public sealed class ProgressOutputTests
{
    private static string StaticDigitsSpec() => $"""
        version: 1
        models:
          - name: digits
            source: {TestPaths.SharedModel("digits-mlp")}
            passes:
              - quantize:
                  mode: static
                  calibration: {"{"} data: {TestPaths.SharedData("digits_calib_x.npy")} {"}"}
            evaluate:
              data: {TestPaths.SharedData("digits_test_x.npy")}
              min_cosine: 0.9
        """;

    [Test]
    public void RedirectedRunPrintsProgressLinesWithoutCarriageReturns()
    {
        using var workspace = new Workspace();

        CliResult run = CliProcess.Run("run", workspace.WriteSpec(StaticDigitsSpec()), "--output", workspace.Output, "--progress-interval", "0");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.StandardOutput + run.StandardError, Does.Not.Contain('\r'));
            Assert.That(run.StandardOutput, Does.Contain("compress: digits: calibrating 256/256 (100%)\n"));
            Assert.That(run.StandardOutput, Does.Contain("compress: digits: evaluating 450/450 (100%)\n"));
            Assert.That(run.StandardOutput, Does.Contain("compress: digits: 203,986 B -> "), "the summary line stays");
        });
    }

    [Test]
    public void DefaultIntervalNeverWritesCarriageReturnsWhenRedirected()
    {
        using var workspace = new Workspace();

        CliResult run = CliProcess.Run("run", workspace.WriteSpec(StaticDigitsSpec()), "--output", workspace.Output);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.StandardOutput + run.StandardError, Does.Not.Contain('\r'));
        });
    }

    [Test]
    public void NoProgressPrintsNoProgressLines()
    {
        using var workspace = new Workspace();

        CliResult run = CliProcess.Run("run", workspace.WriteSpec(StaticDigitsSpec()), "--output", workspace.Output, "--progress-interval", "0", "--no-progress");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.StandardOutput, Does.Not.Contain("calibrating").And.Not.Contain("evaluating"));
            Assert.That(run.StandardOutput, Does.Contain("compress: digits: 203,986 B -> "));
        });
    }

    [Test]
    public void NegativeIntervalIsRejected()
    {
        using var workspace = new Workspace();

        CliResult run = CliProcess.Run("run", workspace.WriteSpec(StaticDigitsSpec()), "--output", workspace.Output, "--progress-interval", "-1");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Not.Zero);
            Assert.That(run.StandardError, Does.Contain("--progress-interval"));
            Assert.That(workspace.OutputFiles(), Is.Empty);
        });
    }
}
