using System.Text.Json;

namespace Compress.Cli.Tests;

/// <summary>The quantization issue's spec snippets, run as written through the real tool.</summary>
public class QuantizationSpecTests
{
    [Test]
    public void StaticSpecCalibratesQuantizesAndListsTheCalibrationDataAsAnInput()
    {
        using var workspace = new Workspace();
        string calibration = TestPaths.SharedData("fashion_calib_x.npy");
        string spec = workspace.WriteSpec($"""
            version: 1
            models:
              - name: fashion-static
                source: {TestPaths.SharedModel("fashion-cnn")}
                passes:
                  - quantize:
                      mode: static               # QDQ unless quant_format: QOperator
                      per_channel: true
                      calibration:
                        data: {calibration}
                        method: entropy          # minmax | entropy | percentile
                        samples: 256
            """);
        string inputsList = Path.Combine(workspace.Root, "inputs.txt");

        CliResult result = CliProcess.Run("run", spec, "--output", workspace.Output, "--inputs-list", inputsList);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(File.ReadAllLines(inputsList), Does.Contain(calibration), "calibration data must make the build re-run when it changes");
        using JsonDocument report = JsonDocument.Parse(File.ReadAllText(Path.Combine(workspace.Output, "fashion-static.report.json")));
        JsonElement staticPass = report.RootElement.GetProperty("passes").EnumerateArray()
            .Single(p => p.GetProperty("pass").GetString() == "static_quantization");
        Assert.Multiple(() =>
        {
            Assert.That(staticPass.GetProperty("nodes_quantized").GetInt32(), Is.GreaterThanOrEqualTo(4), "2 Conv + 2 Gemm at least");
            Assert.That(staticPass.GetProperty("notes").EnumerateArray().Select(n => n.GetString()), Has.Some.Contains("Entropy on 256 samples"));
            Assert.That(new FileInfo(Path.Combine(workspace.Output, "fashion-static.onnx")).Length,
                Is.LessThanOrEqualTo(new FileInfo(TestPaths.SharedModel("fashion-cnn")).Length * 0.30));
        });
    }

    [Test]
    public void WeightOnlyInt4SpecShrinksAWeightDominatedModel()
    {
        using var workspace = new Workspace();
        string source = TestPaths.SharedModel("digits-mlp");
        string spec = workspace.WriteSpec($$"""
            version: 1
            models:
              - name: digits-int4
                source: {{source}}
                passes:
                  - quantize: { mode: weight_only, bits: 4, block_size: 32 }
            """);

        CliResult result = CliProcess.Run("run", spec, "--output", workspace.Output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        long output = new FileInfo(Path.Combine(workspace.Output, "digits-int4.onnx")).Length;
        // 4-bit codes + one float scale per 32 weights = 4.5 bits per weight, plus float biases.
        Assert.That(output, Is.LessThanOrEqualTo(new FileInfo(source).Length * 0.18));
    }
}
