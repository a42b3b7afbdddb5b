using System.Text.Json;

namespace Compress.Cli.Tests;

public class RunCommandTests
{
    private static string ContractSpec(string source) => $"""
        # yaml-language-server: $schema=compress.schema.yaml
        version: 1
        models:
          - name: digits-int8
            source: {source}
            passes:
              - quantize:
                  mode: dynamic
                  per_channel: true
                  op_types_to_quantize: [MatMul, Gemm]
        """;

    [Test]
    public void ContractSpecWritesAQuantizedModelAReportAndDependencyLists()
    {
        using var workspace = new Workspace();
        string source = TestPaths.SharedModel("digits-mlp");
        string spec = workspace.WriteSpec(ContractSpec(source));
        string inputsList = Path.Combine(workspace.Root, "inputs.txt");
        string outputsList = Path.Combine(workspace.Root, "outputs.txt");

        CliResult result = CliProcess.Run("run", spec, "--output", workspace.Output, "--inputs-list", inputsList, "--outputs-list", outputsList);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        string model = Path.Combine(workspace.Output, "digits-int8.onnx");
        string reportPath = Path.Combine(workspace.Output, "digits-int8.report.json");
        long sourceBytes = new FileInfo(source).Length;
        long outputBytes = new FileInfo(model).Length;
        Assert.That(outputBytes, Is.LessThanOrEqualTo(sourceBytes * 0.30), "dynamic int8 must be at most 30% of fp32");
        Assert.That(result.StandardOutput, Does.Contain("compress: digits-int8: "));

        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(reportPath));
        JsonElement root = report.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("source_bytes").GetInt64(), Is.EqualTo(sourceBytes));
            Assert.That(root.GetProperty("output_bytes").GetInt64(), Is.EqualTo(outputBytes));
            Assert.That(root.GetProperty("nodes_quantized").GetInt32(), Is.EqualTo(3), "digits-mlp has three Gemm");
            Assert.That(root.GetProperty("passes")[0].GetProperty("pass").GetString(), Is.EqualTo("dynamic_quantization"));
            Assert.That(root.GetProperty("duration_ms").GetInt64(), Is.GreaterThanOrEqualTo(0));
            Assert.That(File.ReadAllLines(inputsList), Is.EquivalentTo(new[] { spec, source }));
            Assert.That(File.ReadAllLines(outputsList), Is.EquivalentTo(new[] { model, reportPath }));
        });
    }

    [Test]
    public void SameInputsGiveByteIdenticalModels()
    {
        using var workspace = new Workspace();
        string spec = workspace.WriteSpec(ContractSpec(TestPaths.SharedModel("fashion-cnn")));
        string first = Path.Combine(workspace.Root, "first");
        string second = Path.Combine(workspace.Root, "second");

        Assert.That(CliProcess.Run("run", spec, "--output", first).ExitCode, Is.Zero);
        Assert.That(CliProcess.Run("run", spec, "--output", second).ExitCode, Is.Zero);

        Assert.That(
            File.ReadAllBytes(Path.Combine(second, "digits-int8.onnx")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(first, "digits-int8.onnx"))));
    }

    [TestCase("digits-mlp", 3)]
    [TestCase("fashion-cnn", 2)]
    [TestCase("ocr-cls", 1)]
    [TestCase("ocr-det", 0)]
    [TestCase("silero-vad-v4", 0)]
    public void EverySharedModelPassesThroughWithWhatCouldNotBeQuantizedReported(string name, int expectedQuantized)
    {
        using var workspace = new Workspace();
        string spec = workspace.WriteSpec(ContractSpec(TestPaths.SharedModel(name)));

        CliResult result = CliProcess.Run("run", spec, "--output", workspace.Output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(workspace.Output, "digits-int8.report.json")));
        JsonElement pass = report.RootElement.GetProperty("passes")[0];
        Assert.That(report.RootElement.GetProperty("nodes_quantized").GetInt32(), Is.EqualTo(expectedQuantized));
        if (expectedQuantized == 0)
        {
            Assert.That(pass.GetProperty("notes").GetArrayLength() + pass.GetProperty("skipped_nodes").GetArrayLength(), Is.Positive,
                "a model with nothing quantized must say why");
        }
    }
}
