using System.Text.Json;
using System.Text.Json.Nodes;
using Compress.Core.Pipeline;

namespace Compress.Core.Tests.Evaluation;

/// <summary>
/// Tuning decisions survive a miss of the output cache: digits-mlp with int4 weight-only and a zero-drop budget
/// (tuning needed, see <see cref="AccuracyBudgetPipelineTests"/>), run twice with the same cache folder and a
/// different <c>top_k</c>, which changes the output cache key but not what tuning decides.
/// </summary>
public sealed class TuningDecisionCacheTests
{
    private const string Int4 = "{ mode: weight_only, bits: 4, block_size: 64 }";

    private static string Spec(int topK) =>
        EvaluationWorkspace.DigitsSpec(Int4, $"max_accuracy_drop: 0.0\non_failure: tune\ntop_k: {topK}");

    [Test]
    public void SecondBuildReusesCachedDecisionsWithOneEvaluationAndWritesTheSameModel()
    {
        using var workspace = new EvaluationWorkspace();
        string cache = Path.Combine(workspace.Root, "cache");

        PipelineResult first = workspace.Run(Spec(5), cacheDirectories: cache);
        byte[] firstModel = File.ReadAllBytes(Path.Combine(workspace.Output, "digits.onnx"));
        JsonObject firstReport = ReadReport(workspace);
        PipelineResult second = workspace.Run(Spec(3), cacheDirectories: cache);
        byte[] secondModel = File.ReadAllBytes(Path.Combine(workspace.Output, "digits.onnx"));
        JsonObject secondReport = ReadReport(workspace);

        JsonNode firstEvaluation = firstReport["evaluation"]!, secondEvaluation = secondReport["evaluation"]!;
        string key = firstEvaluation["tuning_decisions"]!["key"]!.GetValue<string>();
        Assert.Multiple(() =>
        {
            Assert.That(first.Succeeded && second.Succeeded, Is.True, string.Join("\n", first.Diagnostics.Concat(second.Diagnostics)));
            Assert.That(secondReport["cache"]!["status"]!.GetValue<string>(), Is.EqualTo("miss"), "top_k changes the output cache key");
            Assert.That(firstEvaluation["tuning_decisions"]!["status"]!.GetValue<string>(), Is.EqualTo("stored"));
            Assert.That(firstEvaluation["evaluations"]!.GetValue<int>(), Is.GreaterThan(2), "the first build searched: untuned + one per candidate (+ steps)");
            Assert.That(File.Exists(Path.Combine(cache, "tuning", key + ".json")), Is.True);
            Assert.That(secondEvaluation["tuning_decisions"]!["status"]!.GetValue<string>(), Is.EqualTo("reused"));
            Assert.That(secondEvaluation["tuning_decisions"]!["key"]!.GetValue<string>(), Is.EqualTo(key));
            Assert.That(secondEvaluation["evaluations"]!.GetValue<int>(), Is.EqualTo(2), "untuned + the cached decisions, no search");
            Assert.That(secondReport["tuning"]!.AsArray(), Has.Count.EqualTo(1));
            Assert.That(secondEvaluation["passed"]!.GetValue<bool>(), Is.True);
            Assert.That(Names(secondEvaluation["kept_at_higher_precision"]), Is.EqualTo(Names(firstEvaluation["kept_at_higher_precision"])).And.Not.Empty);
            Assert.That(secondModel, Is.EqualTo(firstModel), "reused decisions give the model the search gave");
            Assert.That(File.ReadAllText(Path.Combine(workspace.Output, "digits.report.md")), Does.Contain("Reused cached tuning decisions"));
            Assert.That(SchemaErrors(secondReport), Is.Empty, "the report with tuning_decisions validates against docs/report-schema.json");
        });
    }

    [Test]
    public void DecisionsThatNoLongerMeetTheBudgetAreReplacedByANewSearch()
    {
        using var workspace = new EvaluationWorkspace();
        string cache = Path.Combine(workspace.Root, "cache");
        workspace.Run(Spec(5), cacheDirectories: cache);
        JsonObject stored = ReadReport(workspace);
        string key = stored["evaluation"]!["tuning_decisions"]!["key"]!.GetValue<string>();
        string decisionFile = Path.Combine(cache, "tuning", key + ".json");
        // Keeping a node the model does not have in float changes nothing: the untuned model, which misses the budget.
        File.WriteAllText(decisionFile, """{ "kept_at_higher_precision": ["no-such-node"] }""");

        PipelineResult again = workspace.Run(Spec(3), cacheDirectories: cache);

        JsonNode evaluation = ReadReport(workspace)["evaluation"]!;
        using JsonDocument restored = JsonDocument.Parse(File.ReadAllBytes(decisionFile));
        Assert.Multiple(() =>
        {
            Assert.That(again.Succeeded, Is.True, string.Join("\n", again.Diagnostics));
            Assert.That(evaluation["tuning_decisions"]!["status"]!.GetValue<string>(), Is.EqualTo("stale"));
            Assert.That(evaluation["evaluations"]!.GetValue<int>(), Is.GreaterThan(2), "a new search ran");
            Assert.That(evaluation["passed"]!.GetValue<bool>(), Is.True);
            Assert.That(
                restored.RootElement.GetProperty("kept_at_higher_precision").EnumerateArray().Select(e => e.GetString()),
                Is.EqualTo(Names(stored["evaluation"]!["kept_at_higher_precision"])),
                "the new search's decisions replace the stale ones");
        });
    }

    internal static List<string> SchemaErrors(JsonObject report)
    {
        using JsonDocument schema = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestPaths.RepositoryRoot, "docs", "report-schema.json")));
        using JsonDocument instance = JsonDocument.Parse(report.ToJsonString());
        return new JsonSchemaSubset(schema.RootElement).Validate(instance.RootElement);
    }

    private static JsonObject ReadReport(EvaluationWorkspace workspace) =>
        JsonNode.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "digits.report.json")))!.AsObject();

    private static string[] Names(JsonNode? array) => [.. array!.AsArray().Select(n => n!.GetValue<string>())];
}
