using System.Text.Json.Nodes;

namespace Compress.Tasks.Tests;

/// <summary>
/// Calibration data is a build input: changing only the data file that a static quantization pass
/// calibrates on re-runs compression (no cache hit, since the result depends on it); the next build skips.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
public sealed class CalibrationInputTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private ConsumerProject _project = null!;
    private string _calibration = null!;

    [OneTimeSetUp]
    public void CreateProject()
    {
        PackResult pack = PackedPackages.Ensure();
        Assert.That(pack.Succeeded, Is.True, pack.Output);
        string root = Path.Combine(PackedPackages.Root, "calibration-input");
        Directory.CreateDirectory(Path.Combine(root, "data"));
        _calibration = Path.Combine(root, "data", "calib.npy");
        File.Copy(Path.Combine(RepositoryPaths.SharedData, "digits_calib_x.npy"), _calibration);
        string source = Path.Combine(RepositoryPaths.SharedModels, "digits-mlp.onnx");
        _project = ConsumerProject.Create(Path.Combine(root, "app"), PackedPackages.Feed, PackedPackages.Version, $"""
            version: 1
            models:
              - name: {ConsumerProject.ModelName}
                source: {source}
                passes:
                  - quantize:
                      mode: static
                      per_channel: true
                      calibration:
                        data: ../data/calib.npy
                        samples: 64
            """);
    }

    private ProcessResult Build() =>
        DotNetProcess.Run(_project.Directory, BuildTimeout, "build", "-nodeReuse:false", "-tl:off", "-v:n");

    private string CacheStatus() =>
        JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(_project.IntermediateModelPath, ".report.json")))!
            ["cache"]!["status"]!.GetValue<string>();

    [Test]
    public void ChangingOnlyTheCalibrationDataRecompressesAndTheNextBuildSkips()
    {
        ProcessResult first = Build();
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(File.Exists(_project.OutputModelPath), Is.True, first.ToString());

        // Scale the last float of the file: still a valid .npy with the same shape, different data.
        using (var stream = new FileStream(_calibration, FileMode.Open, FileAccess.ReadWrite))
        {
            stream.Seek(-4, SeekOrigin.End);
            stream.Write(BitConverter.GetBytes(1.5f));
        }

        ProcessResult second = Build();
        ProcessResult third = Build();

        Assert.Multiple(() =>
        {
            Assert.That(second.ExitCode, Is.Zero, second.ToString());
            Assert.That(second.Output, Does.Contain($"compress: {ConsumerProject.ModelName}: ").And.Not.Contain("cache hit"), second.ToString());
            Assert.That(CacheStatus(), Is.EqualTo("miss"));
            Assert.That(third.Output, Does.Contain("Skipping target \"_CompressCore\""), third.ToString());
        });
    }
}
