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
    public void MissingModelIsACodedErrorNotAStackTrace()
    {
        CliResult result = CliProcess.Run("inspect", "/nonexistent/model.onnx");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.StandardError, Does.Contain("error CMP1001"));
        Assert.That(result.StandardError, Does.Not.Contain("   at "));
    }
}
