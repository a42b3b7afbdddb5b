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

    // Plays the tool: writes one model and both lists (arguments: dll run spec --output D --inputs-list I --outputs-list O).
    private const string FakeTool = """
        mkdir -p "$5"
        printf 'model' > "$5/m.onnx"
        printf '%s\n' "$3" > "$7"
        printf '%s\n' "$5/m.onnx" > "$9"
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
        Assert.That(_host.ReceivedArguments(), Has.Count.EqualTo(9), result.ToString());
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
}
