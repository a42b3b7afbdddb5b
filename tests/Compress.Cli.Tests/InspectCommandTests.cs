using System.Text.Json;

namespace Compress.Cli.Tests;

public class InspectCommandTests
{
    [Test]
    public void JsonListsOperatorsParametersAndBytes()
    {
        string model = TestPaths.SharedModel("digits-mlp");

        CliResult result = CliProcess.Run("inspect", model, "--json");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using JsonDocument json = JsonDocument.Parse(result.StandardOutput);
        Assert.That(json.RootElement.GetRawText(), Does.Contain("\"Gemm\""));
        Assert.That(result.StandardOutput, Does.Contain(new FileInfo(model).Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void WeightsStoredSparseCountAsParameters()
    {
        using var workspace = new Workspace();
        string source = TestPaths.SharedModel("digits-mlp");
        string spec = workspace.WriteSpec($$"""
            version: 1
            models:
              - name: sparse
                source: {{source}}
                storage: sparse
                passes:
                  - prune: { method: magnitude, sparsity: 0.85 }
            """);
        CliResult run = CliProcess.Run("run", spec, "--output", workspace.Output);
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        string output = Path.Combine(workspace.Output, "sparse.onnx");

        CliResult stored = CliProcess.Run("inspect", output, "--json");
        CliResult original = CliProcess.Run("inspect", source, "--json");

        Assert.That(stored.ExitCode, Is.Zero, stored.ToString());
        using JsonDocument storedJson = JsonDocument.Parse(stored.StandardOutput);
        using JsonDocument originalJson = JsonDocument.Parse(original.StandardOutput);
        long parameters = originalJson.RootElement.GetProperty("parameter_count").GetInt64();
        Assert.That(storedJson.RootElement.GetProperty("parameter_count").GetInt64(), Is.EqualTo(parameters).And.Positive);
        Assert.That(new FileInfo(output).Length, Is.LessThan(new FileInfo(source).Length / 2), "the pruned weights are stored sparse");
    }

    [Test]
    public void ModelWithExternalDataReportsTheDataFileSizeBesideTheModelFile()
    {
        using var workspace = new Workspace();
        string model = Path.Combine(workspace.Root, "external.onnx");
        Compress.Core.Onnx.OnnxModelFile.Save(
            Compress.Core.Onnx.OnnxModelFile.Load(TestPaths.SharedModel("digits-mlp")),
            model,
            new Compress.Core.Onnx.OnnxSaveOptions { ExternalData = Compress.Core.Onnx.ExternalDataMode.Always });
        long dataBytes = new FileInfo(model + ".data").Length;

        CliResult json = CliProcess.Run("inspect", model, "--json");
        CliResult text = CliProcess.Run("inspect", model);

        Assert.That(json.ExitCode, Is.Zero, json.ToString());
        using JsonDocument document = JsonDocument.Parse(json.StandardOutput);
        Assert.That(document.RootElement.GetProperty("file_bytes").GetInt64(), Is.EqualTo(new FileInfo(model).Length));
        Assert.That(document.RootElement.GetProperty("external_data_bytes").GetInt64(), Is.EqualTo(dataBytes).And.GreaterThan(200_000), "the weights");
        Assert.That(text.StandardOutput, Does.Contain($"+ {dataBytes:N0} bytes of external data"));
    }

    [Test]
    public void MissingModelIsACodedErrorNotAStackTrace()
    {
        CliResult result = CliProcess.Run("inspect", "/nonexistent/model.onnx");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.StandardError, Does.Contain("error CMP1001"));
        Assert.That(result.StandardError, Does.Not.Contain("   at "));
    }
}
