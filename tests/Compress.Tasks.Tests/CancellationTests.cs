using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Compress.Tasks.Tests;

/// <summary>
/// Kills the compress tool in the middle of a build (the largest shared model, several times over) and checks
/// that no partial model is left for the build to pick up and that the next build recovers.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
[Platform(Include = "Linux", Reason = "Finds the tool's process through /proc.")]
public sealed class CancellationTests
{
    private const int ModelCount = 8;
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);
    private static readonly string[] BuildArguments = ["build", "--no-restore", "-nodeReuse:false", "-tl:off", "-v:m"];
    private static readonly string[] ExpectedExtensions = [".onnx", ".json"];

    private static string SourceModel => Path.Combine(RepositoryPaths.SharedModels, "ocr-det.onnx");

    private static string Spec()
    {
        var spec = new StringBuilder("version: 1\nmodels:\n");
        for (int i = 1; i <= ModelCount; i++)
        {
            spec.Append(CultureInfo.InvariantCulture, $"  - name: ocr{i}\n    source: {SourceModel}\n    passes:\n      - quantize: {{mode: dynamic, per_channel: true, op_types_to_quantize: [Conv, MatMul]}}\n");
        }

        return spec.ToString();
    }

    [Test]
    public void KillingTheToolLeavesOnlyCompleteModelsAndTheNextBuildRecovers()
    {
        Assume.That(File.Exists(SourceModel), Is.True, $"shared model missing: {SourceModel}");
        PackResult pack = PackedPackages.Ensure();
        Assert.That(pack.Succeeded, Is.True, pack.Output);
        ConsumerProject app = ConsumerProject.Create(
            Path.Combine(PackedPackages.Root, "cancel"), PackedPackages.Feed, PackedPackages.Version, Spec());
        string objFolder = Path.Combine(app.Directory, "obj", "Debug", "net10.0", "compress");
        ProcessResult restore = DotNetProcess.Run(app.Directory, BuildTimeout, "restore");
        Assert.That(restore.ExitCode, Is.Zero, restore.ToString());

        using Process build = StartBuild(app.Directory);
        bool killed = KillToolOnceSecondModelIsWritten(app.SpecPath, Path.Combine(objFolder, "ocr2.onnx"), build);
        Assert.That(build.WaitForExit(BuildTimeout), Is.True);

        Assert.That(killed, Is.True, "the tool finished (or never started) before it could be killed");
        Assert.That(build.ExitCode, Is.Not.Zero, "a killed tool must fail the build");
        Assert.That(File.Exists(Path.Combine(objFolder, "compress.outputs.txt")), Is.False, "no outputs list: the next build must run again");
        Dictionary<string, byte[]> left = Directory.GetFiles(objFolder, "ocr*.onnx").ToDictionary(f => f, File.ReadAllBytes);
        Assert.That(left, Has.Count.InRange(2, ModelCount - 1), "some but not all models were written before the kill");

        // A kill during a write leaves the temporary file beside its target; the kill above lands there only
        // sometimes, so one is added as such a kill leaves it, plus a user's own .tmp file that must survive.
        string[] leftByKill = Directory.GetFiles(objFolder, "*.tmp");
        File.WriteAllBytes(Path.Combine(objFolder, $".ocr{ModelCount}.onnx.{Guid.NewGuid():N}.tmp"), left.Values.First()[..1000]);
        string userFile = Path.Combine(objFolder, "notes.tmp");
        File.WriteAllText(userFile, "not the tool's");

        ProcessResult next = DotNetProcess.Run(app.Directory, BuildTimeout, "build", "--no-restore", "-nodeReuse:false", "-tl:off", "-v:n");

        Assert.That(next.ExitCode, Is.Zero, next.ToString());
        Assert.That(next.Output, Does.Contain("compress: ocr1: cache hit"), "models finished before the kill are reused");
        for (int i = 1; i <= ModelCount; i++)
        {
            Assert.That(File.Exists(Path.Combine(app.OutputFolder, "models", $"ocr{i}.onnx")), Is.True, next.ToString());
        }

        // Every model that survived the kill is byte for byte the complete model (the output is deterministic).
        foreach ((string file, byte[] bytes) in left)
        {
            Assert.That(bytes, Is.EqualTo(File.ReadAllBytes(file)), file);
        }

        Assert.That(Directory.GetFiles(Path.Combine(app.OutputFolder, "models")).Select(Path.GetExtension).Distinct(),
            Is.EquivalentTo(ExpectedExtensions), "no temporary files reach bin/");
        Assert.That(Directory.GetFiles(Path.Combine(app.Directory, "obj"), "*.tmp", SearchOption.AllDirectories), Is.EqualTo(new[] { userFile }),
            $"the recovering build removes the tool's stale temporary files (the kill left {leftByKill.Length}) and nothing else");
    }

    private static Process StartBuild(string directory)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in BuildArguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    // Waits until the second model is in place (so the first one is reported and cached), then kills the
    // `dotnet compress.dll run <spec>` process.
    private static bool KillToolOnceSecondModelIsWritten(string spec, string secondModel, Process build)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < BuildTimeout && !build.HasExited)
        {
            if (File.Exists(secondModel) && FindTool(spec) is { } tool)
            {
                tool.Kill();
                tool.WaitForExit();
                return true;
            }

            Thread.Sleep(20);
        }

        return false;
    }

    private static Process? FindTool(string spec)
    {
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                string[] args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args.Any(a => a.EndsWith("compress.dll", StringComparison.Ordinal)) && args.Contains(spec))
                {
                    return Process.GetProcessById(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // The process ended while we looked.
            }
        }

        return null;
    }
}
