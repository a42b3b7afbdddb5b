namespace Compress.Tasks.Tests;

/// <summary>
/// Builds the repository's own samples/ConsumerApp (which imports build/ directly) against the task
/// and tool this test run was built with, and checks that a second build skips compression.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ConsumerAppTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(4);

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    // This assembly lives in <artifacts>/bin/Compress.Tasks.Tests/<config>/: the sample builds into the same artifacts.
    private static string ArtifactsPath => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", ".."));

    private static string Project => Path.Combine(RepositoryPaths.RepositoryRoot, "samples", "ConsumerApp", "ConsumerApp.csproj");

    private static string IntermediateModel => Path.Combine(
        ArtifactsPath, "obj", "ConsumerApp", Configuration.ToLowerInvariant(), "compress", "digits-int8.onnx");

    private static string OutputModel => Path.Combine(
        ArtifactsPath, "bin", "ConsumerApp", Configuration.ToLowerInvariant(), "models", "digits-int8.onnx");

    private static ProcessResult Build() => DotNetProcess.Run(
        RepositoryPaths.RepositoryRoot, BuildTimeout,
        "build", Project, "-c", Configuration, $"-p:ArtifactsPath={ArtifactsPath}", "-p:BuildProjectReferences=false",
        "-nodeReuse:false", "-tl:off", "-v:n");

    [Test]
    public void SecondBuildWithNothingChangedSkipsCompression()
    {
        ProcessResult first = Build();
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(File.Exists(IntermediateModel), Is.True, first.ToString());
        Assert.That(File.Exists(OutputModel), Is.True, first.ToString());
        DateTime written = File.GetLastWriteTimeUtc(IntermediateModel);

        ProcessResult second = Build();

        Assert.Multiple(() =>
        {
            Assert.That(second.ExitCode, Is.Zero, second.ToString());
            Assert.That(second.Output, Does.Contain("Skipping target \"_CompressCore\""), second.ToString());
            Assert.That(second.Output, Does.Contain("Compress: models are up to date"), second.ToString());
            Assert.That(second.Output, Does.Not.Contain("compress: digits-int8:"), "the tool must not run again");
            Assert.That(File.GetLastWriteTimeUtc(IntermediateModel), Is.EqualTo(written));
        });
    }
}
