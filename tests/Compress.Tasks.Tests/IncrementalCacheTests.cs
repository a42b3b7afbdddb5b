using System.Text.Json.Nodes;

namespace Compress.Tasks.Tests;

/// <summary>
/// Incremental builds and the content-hash cache, with the packed packages and the real tool: a change of one
/// input kind re-runs exactly the affected model (the other is a cache hit), a property that changes the
/// outputs re-runs the tool, and a second project with the same models and spec reuses the shared cache.
/// The tests run in order on one pair of projects.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
public sealed class IncrementalCacheTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private string _root = null!;
    private string _models = null!;
    private string _sharedCache = null!;
    private ConsumerProject _first = null!;

    private static string Spec(bool fashionPerChannel) => $$"""
        version: 1
        models:
          - name: digits
            source: ../models/digits.onnx
            passes:
              - quantize: {mode: dynamic, per_channel: true, op_types_to_quantize: [MatMul, Gemm]}
          - name: fashion
            source: ../models/fashion.onnx
            passes:
              - quantize: {mode: dynamic, per_channel: {{(fashionPerChannel ? "true" : "false")}}, op_types_to_quantize: [MatMul, Gemm]}
        """;

    [OneTimeSetUp]
    public void CreateProject()
    {
        PackResult pack = PackedPackages.Ensure();
        Assert.That(pack.Succeeded, Is.True, pack.Output);
        _root = Path.Combine(PackedPackages.Root, "incremental");
        _models = Path.Combine(_root, "models");
        _sharedCache = Path.Combine(_root, "shared-cache");
        Directory.CreateDirectory(_models);
        File.Copy(Path.Combine(RepositoryPaths.SharedModels, "digits-mlp.onnx"), Path.Combine(_models, "digits.onnx"));
        File.Copy(Path.Combine(RepositoryPaths.SharedModels, "fashion-cnn.onnx"), Path.Combine(_models, "fashion.onnx"));
        _first = CreateConsumer("first");
    }

    private ConsumerProject CreateConsumer(string name) => ConsumerProject.Create(
        Path.Combine(_root, name), PackedPackages.Feed, PackedPackages.Version, Spec(fashionPerChannel: true),
        properties: $"<CompressCacheDirectory>{_sharedCache}</CompressCacheDirectory>");

    private static ProcessResult Build(ConsumerProject project, params string[] extra) =>
        DotNetProcess.Run(project.Directory, BuildTimeout, ["build", "-nodeReuse:false", "-tl:off", "-v:n", .. extra]);

    private static string ObjModel(ConsumerProject project, string name) =>
        Path.Combine(project.Directory, "obj", "Debug", "net10.0", "compress", name + ".onnx");

    private static string CacheStatus(ConsumerProject project, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", "net10.0", "compress", name + ".report.json")))!
            ["cache"]!["status"]!.GetValue<string>();

    [Test]
    [Order(1)]
    public void FirstBuildCompressesBothModelsAndKeepsDecisionsOutOfTheNormalLog()
    {
        ProcessResult build = Build(_first);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That((CacheStatus(_first, "digits"), CacheStatus(_first, "fashion")), Is.EqualTo(("miss", "miss")), build.ToString());
        Assert.That(build.Output, Does.Contain("compress: digits: ").And.Contain("compress: fashion: "));
        Assert.That(build.Output, Does.Not.Contain("compress: detail:"), "decisions are low importance (-v:d only)");
    }

    [Test]
    [Order(2)]
    public void ChangingOneSourceModelRecompressesOnlyThatModel()
    {
        // Appends field 6 (doc_string) to the protobuf: still a valid model, different bytes.
        using (var stream = new FileStream(Path.Combine(_models, "digits.onnx"), FileMode.Append))
        {
            stream.Write([0x32, 0x05, (byte)'e', (byte)'d', (byte)'i', (byte)'t', (byte)'1']);
        }

        ProcessResult build = Build(_first);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That((CacheStatus(_first, "digits"), CacheStatus(_first, "fashion")), Is.EqualTo(("miss", "hit")), build.ToString());
        Assert.That(build.Output, Does.Contain("compress: fashion: cache hit").And.Not.Contain("compress: digits: cache hit"), build.ToString());
    }

    [Test]
    [Order(3)]
    public void ChangingOneModelsPassesInTheSpecRecompressesOnlyThatModel()
    {
        File.WriteAllText(_first.SpecPath, Spec(fashionPerChannel: false));

        ProcessResult build = Build(_first);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That((CacheStatus(_first, "digits"), CacheStatus(_first, "fashion")), Is.EqualTo(("hit", "miss")), build.ToString());
    }

    [Test]
    [Order(4)]
    public void NothingChangedSkipsTheTool()
    {
        ProcessResult build = Build(_first);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(build.Output, Does.Contain("Skipping target \"_CompressCore\" because all output files are up-to-date"), build.ToString());
    }

    [Test]
    [Order(5)]
    public void OtherConfigurationThanCompressOnlyInConfigurationWritesModelsWithoutPassesThenRevertIsACacheHit()
    {
        long source = new FileInfo(Path.Combine(_models, "fashion.onnx")).Length;

        ProcessResult skipped = Build(_first, "-p:CompressOnlyInConfiguration=Release");

        Assert.That(skipped.ExitCode, Is.Zero, skipped.ToString());
        Assert.That(skipped.Output, Does.Contain("Compress: configuration 'Debug' is not in CompressOnlyInConfiguration (Release)"), skipped.ToString());
        // Without passes the model keeps its float weights: about the source size (metadata added).
        Assert.That(new FileInfo(ObjModel(_first, "fashion")).Length, Is.InRange(source * 0.95, source * 1.05));

        ProcessResult back = Build(_first);

        Assert.That(back.ExitCode, Is.Zero, back.ToString());
        Assert.That((CacheStatus(_first, "digits"), CacheStatus(_first, "fashion")), Is.EqualTo(("hit", "hit")), back.ToString());
        Assert.That(new FileInfo(ObjModel(_first, "fashion")).Length, Is.LessThan(source * 0.5));
    }

    [Test]
    [Order(6)]
    public void DetailedVerbosityShowsThePassDecisions()
    {
        File.SetLastWriteTimeUtc(_first.SpecPath, DateTime.UtcNow);
        ProcessResult build = Build(_first, "-v:d", "-p:CompressUseCache=false");

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(build.Output, Does.Contain("compress: detail: digits: dynamic_quantization: "), build.ToString());
    }

    [Test]
    [Order(7)]
    public void SecondProjectWithTheSameModelsAndSpecReusesTheSharedCache()
    {
        ConsumerProject second = CreateConsumer("second");
        File.WriteAllText(second.SpecPath, Spec(fashionPerChannel: false));

        ProcessResult build = Build(second);

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(build.Output, Does.Contain($"compress: digits: cache hit").And.Contain(_sharedCache), build.ToString());
        Assert.That((CacheStatus(second, "digits"), CacheStatus(second, "fashion")), Is.EqualTo(("hit", "hit")));
        Assert.That(File.ReadAllBytes(ObjModel(second, "digits")), Is.EqualTo(File.ReadAllBytes(ObjModel(_first, "digits"))));
        Assert.That(File.Exists(Path.Combine(second.OutputFolder, "models", "fashion.onnx")), Is.True);
    }

    [Test]
    [Order(8)]
    public void CompressedModelItemsCarryTheirMetadata()
    {
        ProcessResult result = DotNetProcess.Run(
            _first.Directory, BuildTimeout, "msbuild", "-t:CompressModels", "-getItem:CompressedModel", "-nodeReuse:false");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        JsonArray items = JsonNode.Parse(result.Output[result.Output.IndexOf('{', StringComparison.Ordinal)..])!["Items"]!["CompressedModel"]!.AsArray();
        JsonNode digits = items.Single(i => i!["ModelName"]!.GetValue<string>() == "digits")!;
        Assert.Multiple(() =>
        {
            Assert.That(items, Has.Count.EqualTo(2));
            Assert.That(digits["Identity"]!.GetValue<string>(), Is.EqualTo(ObjModel(_first, "digits")));
            Assert.That(digits["OutputPath"]!.GetValue<string>(), Is.EqualTo(ObjModel(_first, "digits")));
            Assert.That(digits["Source"]!.GetValue<string>(), Is.EqualTo(Path.Combine(_models, "digits.onnx")));
            Assert.That(digits["Spec"]!.GetValue<string>(), Is.EqualTo(_first.SpecPath));
            Assert.That(digits["ReportPath"]!.GetValue<string>(), Is.EqualTo(Path.ChangeExtension(ObjModel(_first, "digits"), ".report.json")));
            Assert.That(digits["TargetPath"]!.GetValue<string>(), Is.EqualTo("models/digits.onnx"));
        });
    }
}
