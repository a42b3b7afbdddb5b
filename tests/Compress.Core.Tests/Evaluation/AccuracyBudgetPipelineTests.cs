using System.Text.Json;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;

namespace Compress.Core.Tests.Evaluation;

/// <summary>
/// evaluate: blocks end to end through the pipeline on digits-mlp with int4 weight-only quantization, which
/// loses accuracy on the test set (checked below, not assumed), so a zero-drop budget is missed by default.
/// </summary>
public sealed class AccuracyBudgetPipelineTests
{
    private const string Int4 = "{ mode: weight_only, bits: 4, block_size: 64 }";

    private EvaluationWorkspace tuned = null!;
    private PipelineResult tunedResult = null!;

    private string TunedReport => Path.Combine(tuned.Output, "digits.report.json");

    [OneTimeSetUp]
    public void RunTunedSpec()
    {
        tuned = new EvaluationWorkspace();
        tunedResult = tuned.Run(EvaluationWorkspace.DigitsSpec(Int4, "max_accuracy_drop: 0.0\non_failure: tune"));
    }

    [OneTimeTearDown]
    public void Cleanup() => tuned.Dispose();

    [Test]
    public void TuneMeetsABudgetTheDefaultSettingsMissAndNamesTheLayersKeptInFloat()
    {
        Assert.That(tunedResult.Succeeded, Is.True, string.Join("\n", tunedResult.Diagnostics));
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(TunedReport));
        JsonElement evaluation = report.RootElement.GetProperty("evaluation");
        double before = evaluation.GetProperty("before").GetProperty("accuracy").GetDouble();
        double untuned = evaluation.GetProperty("after_untuned").GetProperty("accuracy").GetDouble();
        double after = evaluation.GetProperty("after").GetProperty("accuracy").GetDouble();
        string[] kept = [.. evaluation.GetProperty("kept_at_higher_precision").EnumerateArray().Select(e => e.GetString()!)];
        JsonElement[] steps = [.. report.RootElement.GetProperty("tuning").EnumerateArray()];

        // The written model: every kept layer is still a float Gemm, the others became MatMulNBits.
        ModelProto written = OnnxModelFile.Load(Path.Combine(tuned.Output, "digits.onnx"));
        string[] floatGemms = [.. written.Graph.Node.Where(n => n.OpType == "Gemm").Select(n => n.Name)];
        int int4Nodes = written.Graph.Node.Count(n => n.OpType == "MatMulNBits");

        Assert.Multiple(() =>
        {
            Assert.That(untuned, Is.LessThan(before), "int4 with default settings must lose accuracy, else this test proves nothing");
            Assert.That(after, Is.GreaterThanOrEqualTo(before), "max_accuracy_drop: 0.0 holds after tuning");
            Assert.That(evaluation.GetProperty("passed").GetBoolean(), Is.True);
            Assert.That(kept, Is.Not.Empty);
            Assert.That(floatGemms, Is.EquivalentTo(kept));
            Assert.That(int4Nodes, Is.EqualTo(3 - kept.Length), "digits-mlp has 3 Gemm");
            Assert.That(steps[^1].GetProperty("passed").GetBoolean(), Is.True);
            Assert.That(steps[..^1].Select(s => s.GetProperty("passed").GetBoolean()), Has.All.False);
            Assert.That(steps[^1].GetProperty("excluded").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(kept));
            Assert.That(evaluation.GetProperty("layer_sensitivity").GetArrayLength(), Is.EqualTo(3));
            Assert.That(
                evaluation.GetProperty("evaluations").GetInt32(),
                Is.EqualTo(1 + 3 + steps.Count(s => s.GetProperty("excluded").GetArrayLength() > 1)),
                "untuned, one per candidate, one per step with more than one node (single nodes were measured already)");
            Assert.That(evaluation.GetProperty("tuning_decisions").GetProperty("status").GetString(), Is.EqualTo("not_cached"), "no cache folder");
            Assert.That(File.ReadAllText(Path.ChangeExtension(TunedReport, ".md")), Does.Contain("Layers kept in float: " + string.Join(", ", kept.Select(k => $"`{k}`"))));
        });
    }

    [Test]
    public void TuningReportsProgressOfEvaluationAndSensitivityMeasurement()
    {
        List<PipelineProgress> updates = tuned.ProgressUpdates;
        PipelineProgress[] sensitivity = [.. updates.Where(u => u.Activity == "measuring layer sensitivity")];

        Assert.Multiple(() =>
        {
            Assert.That(updates.Select(u => u.Model), Has.All.EqualTo("digits"));
            Assert.That(updates, Does.Contain(new PipelineProgress("digits", "evaluating the original", 450, 450)));
            Assert.That(updates, Does.Contain(new PipelineProgress("digits", "evaluating", 450, 450)));
            Assert.That(sensitivity.Select(u => u.Done), Is.EqualTo(Enumerable.Range(0, 4)), "one update per candidate, then done");
            Assert.That(sensitivity.Select(u => u.Total), Has.All.EqualTo(3));
            Assert.That(updates.Where(u => u.Activity == "evaluating").Count(u => u.IsComplete), Is.EqualTo(1), "runs inside tuning report no progress of their own");
        });
    }

    [Test]
    public void ChartsArePngFilesWithContent()
    {
        byte[] pngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        foreach (string chart in new[] { "digits.report.size.png", "digits.report.layers.png" })
        {
            string path = Path.Combine(tuned.Output, chart);
            Assert.That(File.Exists(path), Is.True, chart);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.That(bytes.Take(8), Is.EqualTo(pngSignature), chart);
            Assert.That(bytes, Has.Length.GreaterThan(5_000), $"{chart}: a 900x480 chart with bars and text is not tiny");
            Assert.That(tunedResult.Outputs, Does.Contain(path), "charts are listed as outputs (clean, incremental builds)");
        }
    }

    [Test]
    public void ReportValidatesAgainstTheDocumentedSchema()
    {
        using JsonDocument schema = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "docs", "report-schema.json")));
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(TunedReport));

        List<string> errors = new JsonSchemaSubset(schema.RootElement).Validate(report.RootElement);

        Assert.That(errors, Is.Empty);
        Assert.That(report.RootElement.TryGetProperty("weight_sqnr", out _), Is.True, "the report carries the optional sections the schema describes");
    }

    [Test]
    public void SchemaCheckRejectsAReportWithAMissingOrUnknownField()
    {
        using JsonDocument schema = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "docs", "report-schema.json")));
        var report = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllBytes(TunedReport))!.AsObject();
        report["evaluation"]!.AsObject().Remove("passed");
        report["surprise"] = 1;
        using JsonDocument broken = JsonDocument.Parse(report.ToJsonString());

        List<string> errors = new JsonSchemaSubset(schema.RootElement).Validate(broken.RootElement);

        string[] expected = ["$: property 'surprise' is not in the schema", "$.evaluation: missing required 'passed'"];
        Assert.That(errors, Is.EquivalentTo(expected));
    }

    [Test]
    public void WarningWritesTheModelAndReportsCmp2001AsAWarning()
    {
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(EvaluationWorkspace.DigitsSpec(Int4, "max_accuracy_drop: 0.0\non_failure: warning"));

        Diagnostic warning = result.Diagnostics.Single();
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.report.json")));
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True);
            Assert.That(warning.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
            Assert.That(warning.Code, Is.EqualTo("CMP2001"));
            Assert.That(warning.Message, Does.Contain("max_accuracy_drop"));
            Assert.That(workspace.Logged, Does.Contain(warning));
            Assert.That(File.Exists(Path.Combine(workspace.Output, "digits.onnx")), Is.True);
            Assert.That(report.RootElement.GetProperty("evaluation").GetProperty("passed").GetBoolean(), Is.False);
            Assert.That(report.RootElement.GetProperty("evaluation").GetProperty("violations").GetArrayLength(), Is.EqualTo(1));
        });
    }

    [Test]
    public void ErrorReportsCmp2001AtTheEvaluateKeyAndWritesNothing()
    {
        using var workspace = new EvaluationWorkspace();
        string yaml = EvaluationWorkspace.DigitsSpec(Int4, "max_accuracy_drop: 0.0\non_failure: error");
        int evaluateLine = yaml.Split('\n').ToList().FindIndex(l => l.TrimStart().StartsWith("evaluate:", StringComparison.Ordinal)) + 1;

        PipelineResult result = workspace.Run(yaml);

        Diagnostic error = result.Diagnostics.Single();
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.False);
            Assert.That(error.Code, Is.EqualTo("CMP2001"));
            Assert.That(error.IsError, Is.True);
            Assert.That(error.File, Is.EqualTo(Path.Combine(workspace.Root, "compress.yaml")));
            Assert.That(error.Line, Is.EqualTo(evaluateLine));
            Assert.That(workspace.OutputFiles(), Is.Empty);
        });
    }

    [Test]
    public void BuildLevelWarningSeverityDowngradesAnErrorBudget()
    {
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(EvaluationWorkspace.DigitsSpec(Int4, "max_accuracy_drop: 0.0"), AccuracyFailureSeverity.Warning);

        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.True);
            Assert.That(result.Diagnostics.Select(d => (d.Code, d.Severity)), Is.EqualTo(new[] { ("CMP2001", DiagnosticSeverity.Warning) }));
            Assert.That(File.Exists(Path.Combine(workspace.Output, "digits.onnx")), Is.True);
        });
    }

    [Test]
    public void TuningThatCannotMeetTheBudgetIsCmp2002AndWritesNothing()
    {
        // The float model itself scores 436/450 < 1.0: no amount of float layers reaches min_accuracy 1.0.
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(EvaluationWorkspace.DigitsSpec(Int4, "min_accuracy: 1.0\non_failure: tune"));

        Diagnostic error = result.Diagnostics.Single();
        Assert.Multiple(() =>
        {
            Assert.That(error.Code, Is.EqualTo("CMP2002"));
            Assert.That(error.IsError, Is.True);
            Assert.That(error.Message, Does.Contain("min_accuracy"));
            Assert.That(error.Message, Does.Match(@"even with [1-3] of 3 candidate layers left uncompressed"), "every candidate was tried; those that helped stay in float");
            Assert.That(workspace.OutputFiles(), Is.Empty);
        });
    }

    [Test]
    public void BudgetThatHoldsRunsNoTuning()
    {
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(EvaluationWorkspace.DigitsSpec("{ mode: dynamic }", "min_cosine: 0.99\non_failure: tune"));

        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.report.json")));
        Assert.Multiple(() =>
        {
            Assert.That(result.Diagnostics, Is.Empty);
            Assert.That(report.RootElement.GetProperty("evaluation").GetProperty("after").GetProperty("cosine").GetDouble(), Is.GreaterThanOrEqualTo(0.99));
            Assert.That(report.RootElement.TryGetProperty("tuning", out _), Is.False);
            Assert.That(report.RootElement.GetProperty("weight_sqnr").GetArrayLength(), Is.EqualTo(3), "three Gemm weights quantized to int8");
        });
    }
}
