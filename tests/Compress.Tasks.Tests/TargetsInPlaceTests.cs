namespace Compress.Tasks.Tests;

/// <summary>
/// Runs the repository's build/Compress.Tasks.{props,targets} in place (no package), with the freshly
/// built task and a fake dotnet host standing in for the tool, to check when the tool is started.
/// </summary>
[TestFixture]
[NonParallelizable]
[Platform(Exclude = "Win", Reason = "The fake dotnet host is a bash script.")]
public sealed class TargetsInPlaceTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(2);
    private static readonly string[] ExpectedSeverityArguments = ["--on-accuracy-failure", "warning"];

    // Plays the tool: writes one model and the three lists (arguments: dll run spec --output D --inputs-list I --outputs-list O --models-list M ...).
    private const string FakeTool = """
        mkdir -p "$5"
        printf 'model' > "$5/m.onnx"
        printf '%s\n' "$3" > "$7"
        printf '%s\n' "$5/m.onnx" > "$9"
        printf '%s\t%s\t%s\t%s\n' "$5/m.onnx" "$3" "$5/m.report.json" m > "${11}"
        """;

    private FakeDotNetHost _host = null!;
    private string _project = null!;

    [SetUp]
    public void CreateProject()
    {
        _host = FakeDotNetHost.Create(FakeTool);
        string directory = Path.Combine(_host.Folder, "app");
        Directory.CreateDirectory(directory);
        string build = Path.Combine(RepositoryPaths.RepositoryRoot, "build");
        string taskAssembly = typeof(CompressModels).Assembly.Location;
        File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(directory, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(directory, "compress.yaml"), "version: 1\n");
        _project = Path.Combine(directory, "app.csproj");
        File.WriteAllText(_project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <Import Project="{build}/Compress.Tasks.props" />
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <_CompressTaskAssembly>{taskAssembly}</_CompressTaskAssembly>
                <CompressToolPath>{_host.ToolAssemblyPath}</CompressToolPath>
                <CompressDotNetHostPath>{_host.HostPath}</CompressDotNetHostPath>
              </PropertyGroup>
              <Import Project="{build}/Compress.Tasks.targets" />
            </Project>
            """);
    }

    [TearDown]
    public void DeleteProject() => _host.Dispose();

    private ProcessResult RunCompressTarget(params string[] properties) =>
        DotNetProcess.Run(
            Path.GetDirectoryName(_project)!, BuildTimeout,
            ["msbuild", _project, "-restore", "-t:CompressModels", "-nodeReuse:false", "-tl:off", "-v:n", .. properties]);

    private string IntermediateModel => Path.Combine(Path.GetDirectoryName(_project)!, "obj", "Debug", "net10.0", "compress", "m.onnx");

    [Test]
    public void NormalBuildRunsTheToolOnTheDefaultSpec()
    {
        ProcessResult result = RunCompressTarget();

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        string compress = Path.Combine(Path.GetDirectoryName(_project)!, "obj", "Debug", "net10.0", "compress");
        Assert.That(_host.ReceivedArguments().Skip(9), Is.EqualTo(new[]
        {
            "--models-list", Path.Combine(compress, "compress.models.txt"),
            "--cache-dir", Path.Combine(compress, "cache"),
            "--on-accuracy-failure", "error",
            "--verbose",
        }), result.ToString());
        Assert.That(_host.ReceivedArguments()[2], Is.EqualTo(Path.Combine(Path.GetDirectoryName(_project)!, "compress.yaml")));
        Assert.That(File.Exists(IntermediateModel), Is.True, result.ToString());
    }

    [Test]
    public void DesignTimeBuildNeverStartsTheTool()
    {
        ProcessResult result = RunCompressTarget("-p:DesignTimeBuild=true");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(_host.ReceivedArguments(), Is.Empty, result.ToString());
        Assert.That(File.Exists(IntermediateModel), Is.False);
    }

    [Test]
    public void EnableCompressFalseNeverStartsTheTool()
    {
        ProcessResult result = RunCompressTarget("-p:EnableCompress=false");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(_host.ReceivedArguments(), Is.Empty, result.ToString());
    }

    [Test]
    public void BuildPropertiesReachTheToolAsOptions()
    {
        string shared = Path.Combine(_host.Folder, "shared cache");

        ProcessResult result = RunCompressTarget(
            "-p:CompressAccuracyFailureSeverity=Warning", "-p:CompressOnlyInConfiguration=Release", $"-p:CompressCacheDirectory={shared}");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        IReadOnlyList<string> arguments = _host.ReceivedArguments();
        Assert.That(arguments.SkipWhile(a => a != "--shared-cache-dir").Take(2), Is.EqualTo(new[] { "--shared-cache-dir", shared }));
        Assert.That(arguments.SkipWhile(a => a != "--on-accuracy-failure").Take(2), Is.EqualTo(ExpectedSeverityArguments));
        Assert.That(arguments, Does.Contain("--skip-passes"));
        Assert.That(result.Output, Does.Contain("Compress: configuration 'Debug' is not in CompressOnlyInConfiguration (Release)"));
    }

    [Test]
    public void CompressUseCacheFalsePassesNoCacheFolders()
    {
        ProcessResult result = RunCompressTarget("-p:CompressUseCache=false", "-p:CompressCacheDirectory=/tmp/x");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(_host.ReceivedArguments(), Has.None.StartsWith("--cache-dir").And.None.StartsWith("--shared-cache-dir"));
    }

    [Test]
    public void InvalidAccuracyFailureSeverityFailsWithCodeBeforeStartingTheTool()
    {
        ProcessResult result = RunCompressTarget("-p:CompressAccuracyFailureSeverity=maybe");

        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain("error CMP9004: CompressAccuracyFailureSeverity is 'maybe'"), result.ToString());
        Assert.That(_host.ReceivedArguments(), Is.Empty);
    }

    [Test]
    public void ChangingAPropertyThatChangesTheOutputsRunsTheToolAgain()
    {
        ProcessResult first = RunCompressTarget();
        File.Delete(_host.ArgumentsFile);
        ProcessResult same = RunCompressTarget();
        ProcessResult changed = RunCompressTarget("-p:CompressOnlyInConfiguration=Release");

        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(same.Output, Does.Contain("Skipping target \"_CompressCore\""), same.ToString());
        Assert.That(changed.Output, Does.Not.Contain("Skipping target \"_CompressCore\""), changed.ToString());
        Assert.That(_host.ReceivedArguments(), Does.Contain("--skip-passes"));
    }
}
