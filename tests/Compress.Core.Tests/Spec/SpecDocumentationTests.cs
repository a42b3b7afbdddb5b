using System.Reflection;
using Compress.Core.Diagnostics;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>docs/compress-yaml.md names every key the loader accepts and every spec diagnostic code.</summary>
public sealed class SpecDocumentationTests
{
    private static readonly Lazy<string> Reference = new(() =>
        File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "compress-yaml.md")));

    private static IEnumerable<string> AllKeys() =>
        SpecKeys.TopLevel.Concat(SpecKeys.Model).Concat(SpecKeys.PassKinds).Concat(SpecKeys.QuantizeOptions)
            .Concat(SpecKeys.CalibrationOptions).Concat(SpecKeys.ExtraOptionKeys).Concat(SpecKeys.NodeOverrideOptions)
            .Concat(SpecKeys.Float16Options).Concat(SpecKeys.CleanupOptions).Distinct();

    // The spec range CMP0001–CMP0999, read from DiagnosticCodes so a new code must be documented.
    private static IEnumerable<string> SpecCodes() =>
        typeof(DiagnosticCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (string)f.GetRawConstantValue()!)
            .Where(code => code.StartsWith("CMP0", StringComparison.Ordinal));

    [TestCaseSource(nameof(AllKeys))]
    public void KeyIsDocumentedAsCode(string key) =>
        Assert.That(Reference.Value, Does.Contain($"`{key}`"));

    [TestCaseSource(nameof(SpecCodes))]
    public void SpecCodeHasARowInTheErrorTable(string code) =>
        Assert.That(Reference.Value, Does.Contain($"| {code} |"));

    [Test]
    public void ReferenceShowsTheContractExample() =>
        Assert.That(
            Reference.Value,
            Does.Contain("version: 1\nmodels:\n  - name: digits-int8              # output file digits-int8.onnx (+ digits-int8.report.json)\n"));
}
