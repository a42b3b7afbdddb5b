using System.Globalization;
using System.Text.RegularExpressions;

namespace Compress.Tasks.Tests;

/// <summary>
/// With Compress.Tasks and Compress.Runtime packed into a local feed (<see cref="PackedPackages"/>),
/// builds, runs, rebuilds, publishes and cleans a throwaway consumer app with real <c>dotnet</c>
/// processes, against the real compress tool. The tests run in order on one consumer.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
public sealed partial class PackageEndToEndTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(2);

    // The ONNX Runtime platforms the package ships (sorted); the other four are filtered out when packing.
    private static readonly string[] ExpectedNativeRids = ["linux-x64", "osx-arm64", "win-x64"];

    private static readonly string[] ExpectedPackageEntries =
    [
        "build/Compress.Tasks.props",
        "build/Compress.Tasks.targets",
        "tasks/netstandard2.0/Compress.Tasks.dll",
        "tools/net10.0/compress.dll",
        "tools/net10.0/compress.deps.json",
        "tools/net10.0/compress.runtimeconfig.json",
        "tools/net10.0/runtimes/linux-x64/native/libonnxruntime.so",
        "tools/net10.0/runtimes/win-x64/native/onnxruntime.dll",
        "tools/net10.0/runtimes/osx-arm64/native/libonnxruntime.dylib",
        "PACKAGE.md",
        "icon.png",
    ];

    private string _root = null!;
    private string _version = null!;
    private string _feed = null!;
    private ConsumerProject _app = null!;
    private ProcessResult _firstBuild = null!;

    private static string SourceModel => Path.Combine(RepositoryPaths.SharedModels, "digits-mlp.onnx");

    [OneTimeSetUp]
    public void PackAndBuildConsumer()
    {
        Assume.That(File.Exists(SourceModel), Is.True, $"shared model missing: {SourceModel}");
        PackResult pack = PackedPackages.Ensure();
        Assert.That(pack.Succeeded, Is.True, pack.Output);
        _root = Path.Combine(PackedPackages.Root, "basic");
        _version = PackedPackages.Version;
        _feed = PackedPackages.Feed;

        _app = ConsumerProject.Create(Path.Combine(_root, "app"), _feed, _version, ConsumerProject.ValidSpec(SourceModel));
        _firstBuild = Build(_app);
        Assert.That(_firstBuild.ExitCode, Is.Zero, _firstBuild.ToString());
    }

    [Test]
    [Order(1)]
    public void PackageHasTheToolTheTaskAndTheTargetsButNoDependencies()
    {
        string nupkg = Path.Combine(_feed, $"Compress.Tasks.{_version}.nupkg");
        using var archive = System.IO.Compression.ZipFile.OpenRead(nupkg);
        string[] entries = [.. archive.Entries.Select(e => e.FullName)];

        Assert.That(entries, Is.SupersetOf(ExpectedPackageEntries));
        string[] nativeRids = [.. entries
            .Select(e => NativeRid().Match(e))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value)
            .Distinct()
            .Order(StringComparer.Ordinal)];
        Assert.That(nativeRids, Is.EqualTo(ExpectedNativeRids));

        string nuspec = new StreamReader(archive.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
        Assert.That(nuspec, Does.Contain("<developmentDependency>true</developmentDependency>"));
        Assert.That(nuspec, Does.Not.Contain("<dependency "));
    }

    [Test]
    [Order(2)]
    public void FirstBuildWritesTheCompressedModelToObjAndBin()
    {
        Assert.That(File.Exists(_app.IntermediateModelPath), Is.True, _firstBuild.ToString());
        Assert.That(File.Exists(_app.OutputModelPath), Is.True, _firstBuild.ToString());
        Assert.That(File.Exists(_app.OutputReportPath), Is.True, _firstBuild.ToString());
        long source = new FileInfo(SourceModel).Length;
        long compressed = new FileInfo(_app.OutputModelPath).Length;
        Assert.That(compressed, Is.LessThan(source * 0.30), $"{compressed} B vs source {source} B");
        Assert.That(File.ReadAllBytes(_app.OutputModelPath), Is.EqualTo(File.ReadAllBytes(_app.IntermediateModelPath)));
    }

    [Test]
    [Order(3)]
    public void AppRunsTheCompressedModelFromBin()
    {
        ProcessResult run = DotNetProcess.Run(
            _app.Directory, BuildTimeout,
            Path.Combine(_app.OutputFolder, "app.dll"),
            Path.Combine(RepositoryPaths.SharedData, "digits_test_x.npy"),
            Path.Combine(RepositoryPaths.SharedData, "digits_test_y.npy"));

        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Match accuracy = Accuracy().Match(run.Output);
        Assert.That(accuracy.Success, Is.True, run.ToString());
        int correct = int.Parse(accuracy.Groups[1].Value, CultureInfo.InvariantCulture);
        int count = int.Parse(accuracy.Groups[2].Value, CultureInfo.InvariantCulture);
        // fp32 baseline is 0.9689 (436/450); int8 dynamic quantization may lose about a point.
        Assert.That(count, Is.EqualTo(450));
        Assert.That((double)correct / count, Is.GreaterThanOrEqualTo(0.95), run.ToString());
    }

    [Test]
    [Order(4)]
    public void SecondBuildWithNothingChangedSkipsCompression()
    {
        DateTime before = File.GetLastWriteTimeUtc(_app.IntermediateModelPath);

        ProcessResult build = Build(_app);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(build.Output, Does.Contain("Skipping target \"_CompressCore\" because all output files are up-to-date"), build.ToString());
        Assert.That(build.Output, Does.Contain("Compress: models are up to date (compress.yaml)"), build.ToString());
        Assert.That(build.Output, Does.Not.Contain("compress: digits:"), build.ToString());
        Assert.That(File.GetLastWriteTimeUtc(_app.IntermediateModelPath), Is.EqualTo(before));
    }

    [Test]
    [Order(5)]
    public void TouchingTheSpecRunsCompressionAgain()
    {
        File.SetLastWriteTimeUtc(_app.SpecPath, DateTime.UtcNow);

        ProcessResult build = Build(_app);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(build.Output, Does.Contain("compress: digits:"), build.ToString());
        Assert.That(build.Output, Does.Not.Contain("Compress: models are up to date"), build.ToString());
        Assert.That(File.GetLastWriteTimeUtc(_app.IntermediateModelPath), Is.GreaterThanOrEqualTo(File.GetLastWriteTimeUtc(_app.SpecPath)));
    }

    [Test]
    [Order(6)]
    public void PublishCopiesTheModelsToThePublishFolder()
    {
        string publish = Path.Combine(_root, "publish");

        ProcessResult result = DotNetProcess.Run(
            _app.Directory, BuildTimeout, "publish", "-o", publish, "-nodeReuse:false", "-tl:off", "-v:m");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(File.Exists(Path.Combine(publish, "models", ConsumerProject.ModelName + ".onnx")), Is.True, result.ToString());
        Assert.That(File.Exists(Path.Combine(publish, "models", ConsumerProject.ModelName + ".report.json")), Is.True, result.ToString());
    }

    [Test]
    [Order(7)]
    public void CleanRemovesTheModelsFromObjAndBin()
    {
        ProcessResult clean = DotNetProcess.Run(_app.Directory, BuildTimeout, "clean", "-nodeReuse:false", "-tl:off", "-v:m");

        Assert.That(clean.ExitCode, Is.Zero, clean.ToString());
        Assert.That(File.Exists(_app.IntermediateModelPath), Is.False, clean.ToString());
        Assert.That(File.Exists(_app.OutputModelPath), Is.False, clean.ToString());
        Assert.That(File.Exists(_app.OutputReportPath), Is.False, clean.ToString());
    }

    [Test]
    [Order(8)]
    public void SpecErrorFailsTheBuildAtTheSpecPositionAndLeavesNoModel()
    {
        ConsumerProject broken = ConsumerProject.Create(
            Path.Combine(_root, "broken"), _feed, _version, ConsumerProject.SpecWithUnknownKey(SourceModel));

        ProcessResult build = Build(broken);

        Assert.That(build.ExitCode, Is.Not.Zero, build.ToString());
        Assert.That(build.Output, Does.Contain("compress.yaml(7,5): error CMP0002"), build.ToString());
        Assert.That(File.Exists(broken.IntermediateModelPath), Is.False);
        Assert.That(File.Exists(broken.OutputModelPath), Is.False);
    }

    // Normal verbosity shows MSBuild's "Skipping target" line and the task's messages; no terminal logger.
    private static ProcessResult Build(ConsumerProject project) =>
        DotNetProcess.Run(project.Directory, BuildTimeout, "build", "-nodeReuse:false", "-tl:off", "-v:n");

    [GeneratedRegex(@"tools/net10\.0/runtimes/([^/]+)/native/")]
    private static partial Regex NativeRid();

    [GeneratedRegex(@"accuracy (\d+)/(\d+)")]
    private static partial Regex Accuracy();
}
