using System.Text.Json;

namespace Compress.Cli.Tests;

/// <summary><c>compress eval</c> and <c>compress report</c> through the real tool.</summary>
public sealed class EvalCommandTests
{
    private static readonly string[] ComparedMetrics = ["accuracy", "agreement", "cosine", "max_abs_error", "relative_error"];

    private static string Data(string file) =>
        Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(TestPaths.SharedModel("digits-mlp")))!, "data", file);

    private static string BudgetSpec(string source) => $"""
        version: 1
        models:
          - name: digits-int4
            source: {source}
            passes:
              - quantize: {"{"} mode: weight_only, bits: 4, block_size: 64 {"}"}
            evaluate:
              data: {Data("digits_test_x.npy")}
              labels: {Data("digits_test_y.npy")}
              max_accuracy_drop: 0.0
              on_failure: tune
        """;

    [Test]
    public void EvalPrintsTheSameMetricsAsTheBuildReport()
    {
        using var workspace = new Workspace();
        string source = TestPaths.SharedModel("digits-mlp");
        CliResult run = CliProcess.Run("run", workspace.WriteSpec(BudgetSpec(source)), "--output", workspace.Output);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        string compressed = Path.Combine(workspace.Output, "digits-int4.onnx");

        CliResult eval = CliProcess.Run("eval", source, compressed, "--data", Data("digits_test_x.npy"), "--labels", Data("digits_test_y.npy"), "--json");

        Assert.That(eval.ExitCode, Is.Zero, eval.ToString());
        using JsonDocument printed = JsonDocument.Parse(eval.StandardOutput);
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(workspace.Output, "digits-int4.report.json")));
        JsonElement expected = report.RootElement.GetProperty("evaluation");
        Assert.Multiple(() =>
        {
            foreach (string metric in ComparedMetrics)
            {
                Assert.That(
                    printed.RootElement.GetProperty("after").GetProperty(metric).GetDouble(),
                    Is.EqualTo(expected.GetProperty("after").GetProperty(metric).GetDouble()).Within(1e-9),
                    metric);
            }

            Assert.That(printed.RootElement.GetProperty("before").GetProperty("accuracy").GetDouble(), Is.EqualTo(436 / 450.0).Within(1e-12));
            Assert.That(printed.RootElement.GetProperty("samples").GetInt32(), Is.EqualTo(450));
        });
    }

    [Test]
    public void EvalWithoutLabelsPrintsATableOfComparisonMetrics()
    {
        string model = TestPaths.SharedModel("digits-mlp");

        CliResult eval = CliProcess.Run("eval", model, model, "--data", Data("digits_test_x.npy"));

        Assert.Multiple(() =>
        {
            Assert.That(eval.ExitCode, Is.Zero, eval.ToString());
            Assert.That(eval.StandardOutput, Does.Contain("no labels"));
            Assert.That(eval.StandardOutput, Does.Match(@"agreement\s+1\s+1"));
            Assert.That(eval.StandardOutput, Does.Not.Contain("accuracy    "), "no accuracy rows without labels");
        });
    }

    [Test]
    public void EvalWithAnUnknownOutputIsCmp2003()
    {
        string model = TestPaths.SharedModel("digits-mlp");

        CliResult eval = CliProcess.Run("eval", model, model, "--data", Data("digits_test_x.npy"), "--output-name", "probabilities");

        Assert.Multiple(() =>
        {
            Assert.That(eval.ExitCode, Is.EqualTo(1), eval.ToString());
            Assert.That(eval.StandardError, Does.Contain("error CMP2003"));
        });
    }

    [Test]
    public void ReportPrintsTheMarkdownSummaryAndWriteRegeneratesTheFiles()
    {
        using var workspace = new Workspace();
        CliResult run = CliProcess.Run("run", workspace.WriteSpec(BudgetSpec(TestPaths.SharedModel("digits-mlp"))), "--output", workspace.Output);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        string json = Path.Combine(workspace.Output, "digits-int4.report.json");
        string markdown = Path.Combine(workspace.Output, "digits-int4.report.md");
        string layers = Path.Combine(workspace.Output, "digits-int4.report.layers.png");
        File.Delete(markdown);
        File.Delete(layers);

        CliResult printed = CliProcess.Run("report", json);
        CliResult written = CliProcess.Run("report", json, "--write");

        Assert.Multiple(() =>
        {
            Assert.That(printed.ExitCode, Is.Zero, printed.ToString());
            Assert.That(printed.StandardOutput, Does.StartWith("# digits-int4: compression report"));
            Assert.That(printed.StandardOutput, Does.Contain("## Evaluation"));
            Assert.That(printed.StandardOutput, Does.Contain("## Tuning"));
            Assert.That(written.ExitCode, Is.Zero, written.ToString());
            Assert.That(File.Exists(markdown) && File.Exists(layers), Is.True);
            Assert.That(written.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries), Does.Contain(layers));
            Assert.That(File.ReadAllText(markdown), Does.Contain("![digits-int4.report.layers](digits-int4.report.layers.png)"));
        });
    }
}
