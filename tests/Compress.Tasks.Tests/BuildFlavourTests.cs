using System.Globalization;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;

namespace Compress.Tasks.Tests;

/// <summary>
/// The build flavours a .NET team uses, with the packed packages and the real tool: self-contained single-file
/// publish, embedded models, a library package that carries its models to the apps that use it, and a parallel
/// (<c>-m</c>) build of two projects sharing one model and one cache.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
public sealed partial class BuildFlavourTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);
    private static readonly string[] ProjectNames = ["one", "two"];
    private static readonly string[] ExpectedResources = ["models/digits.onnx"];

    private static string SourceModel => Path.Combine(RepositoryPaths.SharedModels, "digits-mlp.onnx");

    private static string Root => Path.Combine(PackedPackages.Root, "flavours");

    [OneTimeSetUp]
    public void Pack()
    {
        Assume.That(File.Exists(SourceModel), Is.True, $"shared model missing: {SourceModel}");
        PackResult pack = PackedPackages.Ensure();
        Assert.That(pack.Succeeded, Is.True, pack.Output);
    }

    private static ProcessResult Dotnet(string directory, params string[] arguments) =>
        DotNetProcess.Run(directory, BuildTimeout, [.. arguments, "-nodeReuse:false", "-tl:off", "-v:m"]);

    [Test]
    public void SelfContainedSingleFilePublishKeepsTheModelsBesideTheAppAndTheAppRuns()
    {
        ConsumerProject app = ConsumerProject.Create(Path.Combine(Root, "single"), PackedPackages.Feed, PackedPackages.Version, ConsumerProject.ValidSpec(SourceModel));
        string publish = Path.Combine(Root, "single-publish");

        ProcessResult result = Dotnet(app.Directory, "publish", "-r", "linux-x64", "--self-contained", "-p:PublishSingleFile=true", "-o", publish);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(File.Exists(Path.Combine(publish, "models", "digits.onnx")), Is.True, result.ToString());
        Assert.That(File.Exists(Path.Combine(publish, "app")), Is.True, "the single-file executable");
        Assert.That(File.Exists(Path.Combine(publish, "app.dll")), Is.False, "app.dll is inside the single file");
        ProcessResult run = DotNetProcess.RunProgram(
            Path.Combine(publish, "app"), publish, BuildTimeout,
            Path.Combine(RepositoryPaths.SharedData, "digits_test_x.npy"), Path.Combine(RepositoryPaths.SharedData, "digits_test_y.npy"));
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Output, Does.Match(@"accuracy 4[3-5]\d/450"), run.ToString());
    }

    [Test]
    public void EmbedModelsAddsThemAsResourcesWithAStableNameInsteadOfCopyingThem()
    {
        ConsumerProject app = ConsumerProject.Create(
            Path.Combine(Root, "embed"), PackedPackages.Feed, PackedPackages.Version, ConsumerProject.ValidSpec(SourceModel),
            properties: "<CompressEmbedModels>true</CompressEmbedModels>");

        ProcessResult result = Dotnet(app.Directory, "build");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var pe = new PEReader(File.OpenRead(Path.Combine(app.OutputFolder, "app.dll")));
        MetadataReader metadata = pe.GetMetadataReader();
        string[] resources = [.. metadata.ManifestResources.Select(h => metadata.GetString(metadata.GetManifestResource(h).Name))];
        Assert.That(resources, Is.EquivalentTo(ExpectedResources));
        Assert.That(Directory.Exists(Path.Combine(app.OutputFolder, "models")), Is.False);
    }

    [Test]
    public void LibraryPackageCarriesItsCompressedModelsIntoTheConsumingAppsBin()
    {
        string libraryVersion = "1.0.0-e2e." + DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);
        PackedPackages.RegisterCachedPackage("digits.models", libraryVersion);
        string library = Path.Combine(Root, "library");
        ConsumerProject.Create(library, PackedPackages.Feed, PackedPackages.Version, ConsumerProject.ValidSpec(SourceModel));
        // Turn the generated app into a class library with its own package id.
        File.Delete(Path.Combine(library, "Program.cs"));
        string csproj = Path.Combine(library, "app.csproj");
        File.WriteAllText(csproj, File.ReadAllText(csproj)
            .Replace("<OutputType>Exe</OutputType>", "<OutputType>Library</OutputType><PackageId>Digits.Models</PackageId>", StringComparison.Ordinal));

        ProcessResult pack = Dotnet(library, "pack", "-o", PackedPackages.Feed, $"-p:Version={libraryVersion}");

        Assert.That(pack.ExitCode, Is.Zero, pack.ToString());
        using (ZipArchive nupkg = ZipFile.OpenRead(Path.Combine(PackedPackages.Feed, $"Digits.Models.{libraryVersion}.nupkg")))
        {
            Assert.That(nupkg.Entries.Select(e => e.FullName), Does.Contain("contentFiles/any/any/models/digits.onnx"));
            string nuspec = new StreamReader(nupkg.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open()).ReadToEnd();
            Assert.That(nuspec, Does.Contain("copyToOutput=\"true\"").And.Contain("id=\"Compress.Runtime\"").And.Not.Contain("id=\"Compress.Tasks\""));
        }

        ConsumerProject app = ConsumerProject.Create(
            Path.Combine(Root, "library-app"), PackedPackages.Feed, PackedPackages.Version, "version: 1\n",
            items: $"<PackageReference Include=\"Digits.Models\" Version=\"{libraryVersion}\" />");
        File.Delete(app.SpecPath);

        ProcessResult build = Dotnet(app.Directory, "build");

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(File.Exists(app.OutputModelPath), Is.True, build.ToString());
        Assert.That(File.ReadAllBytes(app.OutputModelPath),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(library, "obj", "Release", "net10.0", "compress", "digits.onnx"))), "dotnet pack builds Release");
        ProcessResult run = DotNetProcess.Run(app.OutputFolder, BuildTimeout,
            Path.Combine(app.OutputFolder, "app.dll"), Path.Combine(RepositoryPaths.SharedData, "digits_test_x.npy"), Path.Combine(RepositoryPaths.SharedData, "digits_test_y.npy"));
        Assert.That(run.Output, Does.Match(@"accuracy 4[3-5]\d/450"), run.ToString());
    }

    [Test]
    public void ParallelBuildOfTwoProjectsSharingOneModelAndCacheWritesEachProjectsOwnOutputs()
    {
        string folder = Path.Combine(Root, "parallel");
        string cache = Path.Combine(folder, "cache");
        ConsumerProject[] apps = [.. ProjectNames.Select(name => ConsumerProject.Create(
            Path.Combine(folder, name), PackedPackages.Feed, PackedPackages.Version, ConsumerProject.ValidSpec(SourceModel),
            properties: $"<CompressCacheDirectory>{cache}</CompressCacheDirectory>"))];
        File.WriteAllText(Path.Combine(folder, "both.proj"), """
            <Project>
              <Target Name="Build">
                <MSBuild Projects="one/app.csproj;two/app.csproj" Targets="Build" BuildInParallel="true" />
              </Target>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />\n");

        foreach (ConsumerProject app in apps)
        {
            ProcessResult restore = Dotnet(app.Directory, "restore");
            Assert.That(restore.ExitCode, Is.Zero, restore.ToString());
        }

        ProcessResult build = DotNetProcess.Run(folder, BuildTimeout, "msbuild", "both.proj", "-m:2", "-nodeReuse:false", "-tl:off", "-v:n");

        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        Assert.That(SummaryLines().Matches(build.Output), Has.Count.EqualTo(2), "each project ran the tool once");
        Assert.That(File.ReadAllBytes(apps[0].OutputModelPath), Is.EqualTo(File.ReadAllBytes(apps[1].OutputModelPath)));
        Assert.That(apps.Select(a => File.Exists(a.IntermediateModelPath)), Is.All.True);
        Assert.That(Directory.GetDirectories(cache).Select(Path.GetFileName), Has.Exactly(1).Items.And.None.StartsWith(".tmp-"),
            "one cache entry, no staging folder left behind");
    }

    [GeneratedRegex(@"compress: digits: [\d,]+ B -> ")]
    private static partial Regex SummaryLines();
}
