using System.Text.RegularExpressions;

namespace Compress.Cli.Tests;

/// <summary>Every listed spec mistake: one coded error at the right place, exit code 1, and no output at all.</summary>
public class SpecMistakeTests
{
    private const string Valid = """
        version: 1
        models:
          - name: m
            source: {model}
            passes:
              - quantize:
                  mode: dynamic
        """;

    public static IEnumerable<TestCaseData> Mistakes()
    {
        yield return Case("unknown key", Valid + "\n          per_chanel: true", "CMP0002", 8, 11);
        yield return Case("wrong type", Valid + "\n          per_channel: maybe", "CMP0003", 8, 24);
        yield return Case("out-of-range number", Valid.Replace("version: 1", "version: 99999999999", StringComparison.Ordinal), "CMP0004", 1, 10);
        yield return Case("missing model file", Valid.Replace("{model}", "missing.onnx", StringComparison.Ordinal), "CMP0009", 4, 13);
        yield return Case("duplicate model name", Valid + "\n  - name: m\n    source: {model}", "CMP0008", 8, 11);
        yield return Case("bad enum value", Valid.Replace("mode: dynamic", "mode: turbo", StringComparison.Ordinal), "CMP0006", 7, 17);
        yield return Case("empty models list", "version: 1\nmodels: []\n", "CMP0007", 2, 9);
        yield return Case("YAML syntax error", "version: 1\nmodels: [\n", "CMP0001", 3, 1);
        yield return Case("output escaping the output folder", Valid.Replace("    passes:", "    output: ../escape.onnx\n    passes:", StringComparison.Ordinal), "CMP0010", 5, 13);
    }

    [TestCaseSource(nameof(Mistakes))]
    public void MistakeGivesOneCodedErrorAtItsPositionAndNoOutput(string yaml, string code, int line, int column)
    {
        using var workspace = new Workspace();
        string spec = workspace.WriteSpec(yaml.Replace("{model}", TestPaths.SharedModel("digits-mlp"), StringComparison.Ordinal));

        CliResult result = CliProcess.Run("run", spec, "--output", workspace.Output);

        string[] errors = ErrorLines(result);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
            Assert.That(errors, Has.Length.EqualTo(1), result.ToString());
            Assert.That(errors[0], Does.StartWith($"{spec}({line},{column}): error {code}: "), result.ToString());
            Assert.That(workspace.OutputFiles(), Is.Empty);
        });
    }

    [Test]
    public void UnreadableSpecGivesCodedErrorAndNoOutput()
    {
        using var workspace = new Workspace();
        string spec = Path.Combine(workspace.Root, "absent.yaml");

        CliResult result = CliProcess.Run("run", spec, "--output", workspace.Output);

        string[] errors = ErrorLines(result);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
            Assert.That(errors, Has.Length.EqualTo(1), result.ToString());
            Assert.That(errors[0], Does.StartWith($"{spec}: error CMP0011: "), result.ToString());
            Assert.That(workspace.OutputFiles(), Is.Empty);
        });
    }

    private static string[] ErrorLines(CliResult result) =>
        (result.StandardOutput + result.StandardError)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => Regex.IsMatch(line, @": error CMP\d{4}: "))
            .ToArray();

    private static TestCaseData Case(string name, string yaml, string code, int line, int column) =>
        new TestCaseData(yaml, code, line, column).SetName($"{name} gives {code} at ({line},{column})");
}
