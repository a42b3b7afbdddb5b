using System.Diagnostics;
using Microsoft.Build.Framework;

namespace Compress.Tasks.Tests;

[TestFixture]
[Platform(Exclude = "Win", Reason = "The fake dotnet host is a bash script.")]
public sealed class CompressModelsTests
{
    private static readonly string[] ExpectedToolFailed = ["CMP9002"];
    private static readonly string[] ExpectedToolNotFound = ["CMP9003"];

    private static (CompressModels Task, FakeBuildEngine Engine) CreateTask(FakeDotNetHost host)
    {
        var engine = new FakeBuildEngine();
        var task = new CompressModels
        {
            BuildEngine = engine,
            SpecFile = Path.Combine(host.Folder, "compress.yaml"),
            ToolAssemblyPath = host.ToolAssemblyPath,
            OutputDirectory = Path.Combine(host.Folder, "out") + "/",
            InputsListFile = Path.Combine(host.Folder, "out", "compress.inputs.txt"),
            OutputsListFile = Path.Combine(host.Folder, "out", "compress.outputs.txt"),
            DotNetHostPath = host.HostPath,
        };
        return (task, engine);
    }

    [Test]
    public void PassesTheContractCommandLineWithFullPathsAsSeparateArguments()
    {
        using var host = FakeDotNetHost.Create("exit 0");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);

        bool ok = task.Execute();

        Assert.That(ok, Is.True, engine.Transcript());
        // The folder name contains a space: each path must arrive as one argument.
        Assert.That(host.ReceivedArguments(), Is.EqualTo(new[]
        {
            host.ToolAssemblyPath,
            "run",
            Path.Combine(host.Folder, "compress.yaml"),
            "--output",
            Path.Combine(host.Folder, "out"),
            "--inputs-list",
            Path.Combine(host.Folder, "out", "compress.inputs.txt"),
            "--outputs-list",
            Path.Combine(host.Folder, "out", "compress.outputs.txt"),
        }));
    }

    [Test]
    public void OmitsTheListSwitchesWhenNoListFilesAreGiven()
    {
        using var host = FakeDotNetHost.Create("exit 0");
        (CompressModels task, _) = CreateTask(host);
        task.InputsListFile = null;
        task.OutputsListFile = "";

        task.Execute();

        Assert.That(host.ReceivedArguments(), Has.None.StartsWith("--inputs-list").And.None.StartsWith("--outputs-list"));
        Assert.That(host.ReceivedArguments(), Has.Count.EqualTo(5));
    }

    [Test]
    public void CanonicalErrorOnStandardErrorBecomesAnErrorWithFilePositionAndCode()
    {
        using var host = FakeDotNetHost.Create(
            "echo \"/abs/compress.yaml(7,11): error CMP0002: Unknown key 'quantise'.\" >&2\nexit 1");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);

        bool ok = task.Execute();

        Assert.That(ok, Is.False);
        Assert.That(engine.Errors, Has.Count.EqualTo(1), engine.Transcript());
        BuildErrorEventArgs error = engine.Errors[0];
        Assert.That(error.File, Is.EqualTo("/abs/compress.yaml"));
        Assert.That((error.LineNumber, error.ColumnNumber), Is.EqualTo((7, 11)));
        Assert.That(error.Code, Is.EqualTo("CMP0002"));
        Assert.That(error.Message, Is.EqualTo("Unknown key 'quantise'."));
    }

    [Test]
    public void CanonicalWarningOnStandardOutputBecomesAWarningAndSummaryLinesStayMessages()
    {
        using var host = FakeDotNetHost.Create(
            "echo 'compress: digits: 203986 B -> 52345 B (25.7%), 3 nodes quantized, 120 ms'\n" +
            "echo '/abs/compress.yaml(3,5): warning CMP3001: Nothing was quantized.'\nexit 0");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);

        bool ok = task.Execute();

        Assert.That(ok, Is.True, engine.Transcript());
        Assert.That(engine.Errors, Is.Empty);
        Assert.That(engine.Warnings.Select(w => (w.Code, w.File, w.LineNumber, w.ColumnNumber)),
            Is.EqualTo(new[] { ("CMP3001", "/abs/compress.yaml", 3, 5) }));
        BuildMessageEventArgs summary = engine.Messages.Single(m => m.Message!.StartsWith("compress: digits:", StringComparison.Ordinal));
        Assert.That(summary.Importance, Is.EqualTo(MessageImportance.Normal));
    }

    [Test]
    public void FileLessErrorKeepsItsCode()
    {
        using var host = FakeDotNetHost.Create("echo 'compress: error CMP1002: The model is not valid ONNX.' >&2\nexit 1");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);

        task.Execute();

        Assert.That(engine.Errors.Select(e => (e.Code, e.Message)),
            Is.EqualTo(new[] { ("CMP1002", "The model is not valid ONNX.") }), engine.Transcript());
    }

    [Test]
    public void NonZeroExitWithoutDiagnosticsLogsOneCodedError()
    {
        using var host = FakeDotNetHost.Create("echo 'Unhandled exception. System.NullReferenceException' >&2\nexit 2");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);

        bool ok = task.Execute();

        Assert.That(ok, Is.False);
        Assert.That(engine.Errors.Select(e => e.Code), Is.EqualTo(ExpectedToolFailed), engine.Transcript());
        Assert.That(engine.Errors[0].Message, Does.Contain("exited with code 2"));
        Assert.That(engine.Errors[0].File, Is.EqualTo(task.SpecFile));
    }

    [Test]
    public void MissingToolAssemblyFailsBeforeStartingTheHost()
    {
        using var host = FakeDotNetHost.Create("exit 0");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);
        task.ToolAssemblyPath = Path.Combine(host.Folder, "missing", "compress.dll");

        bool ok = task.Execute();

        Assert.That(ok, Is.False);
        Assert.That(engine.Errors.Select(e => e.Code), Is.EqualTo(ExpectedToolNotFound), engine.Transcript());
        Assert.That(host.ReceivedArguments(), Is.Empty, "the host must not have run");
    }

    [Test]
    public void CancelKillsTheRunningTool()
    {
        string marker = Path.Combine(Path.GetTempPath(), "compress-tasks-tests", Guid.NewGuid().ToString("N") + ".done");
        using var host = FakeDotNetHost.Create($"sleep 30\ntouch '{marker}'");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);

        var stopwatch = Stopwatch.StartNew();
        System.Threading.Tasks.Task<bool> run = System.Threading.Tasks.Task.Run(task.Execute);
        // Wait until the script has started (it records its arguments first), then cancel.
        while (host.ReceivedArguments().Count == 0 && stopwatch.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(50);
        }

        task.Cancel();
        bool finished = run.Wait(TimeSpan.FromSeconds(15));

        Assert.That(finished, Is.True, "Execute did not return after Cancel");
        Assert.That(run.Result, Is.False);
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(25)), "the 30 s sleep must have been killed");
        Assert.That(engine.Errors.Select(e => e.Code), Has.No.Member("CMP9002"), engine.Transcript());
        Thread.Sleep(500);
        Assert.That(File.Exists(marker), Is.False, "the script ran to completion");
    }

    [Test]
    public void DecisionLinesAreLoggedAtLowImportanceAndRequestedWithVerbose()
    {
        using var host = FakeDotNetHost.Create(
            "echo 'compress: detail: digits: dynamic_quantization: skipped n1 (MatMul, graph main): weight is not constant'\n" +
            "echo 'compress: digits: 1 B -> 1 B (100.0%), 0 nodes quantized, 1 ms'\nexit 0");
        (CompressModels task, FakeBuildEngine engine) = CreateTask(host);
        task.LogDecisions = true;

        bool ok = task.Execute();

        Assert.That(ok, Is.True, engine.Transcript());
        Assert.That(host.ReceivedArguments(), Does.Contain("--verbose"));
        Assert.That(engine.Messages.Single(m => m.Message!.StartsWith("compress: detail:", StringComparison.Ordinal)).Importance, Is.EqualTo(MessageImportance.Low));
        Assert.That(engine.Messages.Single(m => m.Message!.StartsWith("compress: digits:", StringComparison.Ordinal)).Importance, Is.EqualTo(MessageImportance.Normal));
    }
}
