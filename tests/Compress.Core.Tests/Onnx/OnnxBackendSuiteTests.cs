using System.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Onnx;

/// <summary>
/// Conformance against the ONNX backend test suite (Debian libonnx-testdata 1.12): every model
/// survives load → save → load unchanged, and the node cases ONNX Runtime can run, run from the
/// saved bytes, give the reference outputs.
/// </summary>
public class OnnxBackendSuiteTests
{
    /// <summary>libonnx-testdata 1.12 ships 932 node cases; fewer means a broken or different install.</summary>
    private const int ExpectedNodeCases = 932;

    [TestCase("node")]
    [TestCase("pytorch-converted")]
    [TestCase("pytorch-operator")]
    [TestCase("simple")]
    public void EveryModelRoundTripsUnchanged(string kind)
    {
        string root = TestPaths.RequireOnnxBackendData(kind);
        string[] cases = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToArray();
        if (kind == "node")
        {
            Assert.That(cases, Has.Length.EqualTo(ExpectedNodeCases), $"node cases in {root}");
        }

        using var folder = new TempFolder();
        var failures = new List<string>();
        int roundTripped = 0;
        var clock = Stopwatch.StartNew();
        foreach (string caseFolder in cases)
        {
            string? problem = RoundTrip(Path.Combine(caseFolder, "model.onnx"), folder, out _);
            if (problem is null)
            {
                roundTripped++;
            }
            else
            {
                failures.Add($"{Path.GetFileName(caseFolder)}: {problem}");
            }
        }

        string summary = $"{kind}: {cases.Length} models loaded, {roundTripped} round-tripped unchanged ({clock.Elapsed.TotalSeconds:F1} s)";
        TestContext.Out.WriteLine(summary);
        TestContext.Progress.WriteLine(summary);
        Assert.That(failures, Is.Empty);
    }

    [Test]
    public void NodeCasesAgreeWithReferenceOutputsInOnnxRuntime()
    {
        string root = TestPaths.RequireOnnxBackendData("node");
        string[] cases = Directory.GetDirectories(root).Order(StringComparer.Ordinal).ToArray();
        using var folder = new TempFolder();
        var results = new List<BackendCaseResult>();
        var clock = Stopwatch.StartNew();
        foreach (string caseFolder in cases)
        {
            string name = Path.GetFileName(caseFolder);
            string? problem = RoundTrip(Path.Combine(caseFolder, "model.onnx"), folder, out byte[] saved);
            results.Add(problem is null
                ? OnnxBackendRunner.Run(name, caseFolder, saved)
                : new BackendCaseResult(name, BackendCaseOutcome.Failed, "round trip: " + problem));
            if (results.Count % 200 == 0)
            {
                TestContext.Progress.WriteLine($"node suite: {results.Count}/{cases.Length} cases ({clock.Elapsed.TotalSeconds:F0} s)");
            }
        }

        Report(results, clock.Elapsed);
        string[] unexpected = [.. results.Where(r => r.Outcome == BackendCaseOutcome.Failed).Select(r => $"{r.Name}: {r.Detail}")];
        string[] stale = [.. KnownOrtDifferences.DeterministicCases.Where(c => results.All(r => r.Name != c || r.Outcome != BackendCaseOutcome.KnownDifference))];
        Assert.Multiple(() =>
        {
            Assert.That(unexpected, Is.Empty, "cases ORT runs whose outputs disagree with the reference");
            Assert.That(stale, Is.Empty, "known differences that no longer differ (remove them from KnownOrtDifferences)");
            Assert.That(results.Count(r => r.Outcome == BackendCaseOutcome.Agreed), Is.GreaterThan(cases.Length / 2), "most node cases run in ORT");
        });
    }

    /// <summary>Load → save (stream and file) → load; null when the model came back equal and the bytes are stable.</summary>
    internal static string? RoundTrip(string modelPath, TempFolder folder, out byte[] saved)
    {
        saved = [];
        ModelProto first;
        try
        {
            first = OnnxModelFile.Load(modelPath);
        }
        catch (Diagnostics.CompressException e)
        {
            return "load failed: " + e.Diagnostic;
        }

        saved = OnnxModelFile.ToBytes(first);
        ModelProto second = OnnxModelFile.Load(new MemoryStream(saved), Path.GetDirectoryName(modelPath));
        if (!second.Equals(first))
        {
            return "the reloaded model differs from the loaded one";
        }

        string file = folder.File("roundtrip.onnx");
        OnnxModelFile.Save(second, file);
        if (!File.ReadAllBytes(file).AsSpan().SequenceEqual(saved))
        {
            return "saving the reloaded model to a file gave different bytes";
        }

        return OnnxModelFile.Load(file).Equals(first) ? null : "the model loaded from the saved file differs";
    }

    private static void Report(List<BackendCaseResult> results, TimeSpan elapsed)
    {
        TextWriter output = TestContext.Out;
        int Count(BackendCaseOutcome outcome) => results.Count(r => r.Outcome == outcome);
        output.WriteLine($"ONNX backend node suite ({elapsed.TotalSeconds:F1} s): {results.Count} loaded and round-tripped, " +
            $"{Count(BackendCaseOutcome.Agreed)} run by ORT and agreeing, {Count(BackendCaseOutcome.SkippedByOrt)} skipped by ORT, " +
            $"{Count(BackendCaseOutcome.KnownDifference)} known differences, {Count(BackendCaseOutcome.Failed)} failed");
        TestContext.Progress.WriteLine($"node suite: {Count(BackendCaseOutcome.Agreed)} agreed, {Count(BackendCaseOutcome.SkippedByOrt)} skipped by ORT, " +
            $"{Count(BackendCaseOutcome.KnownDifference)} known differences, {Count(BackendCaseOutcome.Failed)} failed");
        output.WriteLine("Skipped by ORT, by reason:");
        foreach (var group in results.Where(r => r.Outcome == BackendCaseOutcome.SkippedByOrt).GroupBy(r => r.Detail).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {group.Count(),4}  {group.Key}  (e.g. {string.Join(", ", group.Take(3).Select(r => r.Name))})");
        }

        foreach (BackendCaseResult result in results.Where(r => r.Outcome is BackendCaseOutcome.KnownDifference or BackendCaseOutcome.Failed))
        {
            output.WriteLine($"{result.Outcome}: {result.Name}: {result.Detail}");
        }
    }
}
