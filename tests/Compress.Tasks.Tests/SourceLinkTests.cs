using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;

namespace Compress.Tasks.Tests;

/// <summary>
/// Packs Compress.Runtime from a clone of the repository with a local-path remote (how CI clones), with no
/// remote, and with a GitHub remote, and checks what SourceLink puts in the nuspec and in the embedded PDB:
/// nothing (and no warning) without a recognised host, the commit's raw.githubusercontent.com URLs with one.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
public sealed class SourceLinkTests
{
    private const string Version = "0.1.0-sourcelink";
    private const string GitHubRemote = "https://github.com/example/compress.git";
    private const string Project = "src/Compress.Runtime";

    private string _root = null!;
    private RepositoryCheckout _checkout = null!;

    [OneTimeSetUp]
    public void CloneRepository()
    {
        Assume.That(RepositoryCheckout.GitAvailable(), Is.True, "needs git and a git checkout of the repository");
        _root = Path.Combine(Path.GetTempPath(), "compress-sourcelink-" + Guid.NewGuid().ToString("N")[..8]);
        _checkout = RepositoryCheckout.Clone(Path.Combine(_root, "compress"));
    }

    [OneTimeTearDown]
    public void DeleteClone()
    {
        if (_root is not null && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Test]
    [Order(1)]
    public void WithALocalPathRemoteThePackageHasTheCommitButNoSourceLinkAndNoWarning()
    {
        (XElement repository, EmbeddedPdb pdb) = PackRuntime("local-remote");

        AssertRepositoryWithoutUrl(repository);
        Assert.That(pdb.SourceLink, Is.Null, "a local path is no source server");
    }

    [Test]
    [Order(2)]
    public void WithoutARemoteThePackageHasTheCommitButNoSourceLinkAndNoWarning()
    {
        _checkout.RemoveOrigin();

        (XElement repository, EmbeddedPdb pdb) = PackRuntime("no-remote");

        AssertRepositoryWithoutUrl(repository);
        Assert.That(pdb.SourceLink, Is.Null);
    }

    [Test]
    [Order(3)]
    public void WithAGitHubRemoteTheNuspecAndThePdbPointAtTheCommit()
    {
        _checkout.SetOrigin(GitHubRemote);
        string head = _checkout.Head;

        (XElement repository, EmbeddedPdb pdb) = PackRuntime("github-remote");

        Assert.That((string?)repository.Attribute("type"), Is.EqualTo("git"));
        Assert.That((string?)repository.Attribute("url"), Is.EqualTo(GitHubRemote));
        Assert.That((string?)repository.Attribute("commit"), Is.EqualTo(head));

        Assert.That(pdb.SourceLink, Is.Not.Null, "the PDB carries a SourceLink map");
        Dictionary<string, string> map = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(pdb.SourceLink!)!["documents"];
        string root = _checkout.Directory + Path.DirectorySeparatorChar;
        Assert.That(map, Is.EqualTo(new Dictionary<string, string>
        {
            [root + "*"] = $"https://raw.githubusercontent.com/example/compress/{head}/*",
        }));

        // Every source is reachable: committed files through the map, generated ones (artifacts/, untracked) embedded.
        string generated = Path.Combine(root, "artifacts") + Path.DirectorySeparatorChar;
        PdbDocument[] committed = [.. pdb.Documents.Where(d => !d.Path.StartsWith(generated, StringComparison.Ordinal))];
        PdbDocument[] untracked = [.. pdb.Documents.Where(d => d.Path.StartsWith(generated, StringComparison.Ordinal))];
        Assert.That(committed.Select(d => d.Path), Has.Some.EqualTo(Path.Combine(root, "src", "Compress.Runtime", "CompressedModel.cs")));
        Assert.That(committed, Has.All.Matches<PdbDocument>(d => d.Path.StartsWith(root, StringComparison.Ordinal) && !d.IsEmbedded));
        Assert.That(untracked, Is.Not.Empty);
        Assert.That(untracked, Has.All.Matches<PdbDocument>(d => d.IsEmbedded), "untracked generated sources are embedded");
    }

    // Packs Compress.Runtime (every warning an error) and returns the nuspec's <repository> and the dll's PDB.
    private (XElement Repository, EmbeddedPdb Pdb) PackRuntime(string feedName)
    {
        string feed = Path.Combine(_root, feedName);
        // Local (not CI) paths, whatever the environment: CI mode (CI=true in .ci/run) would map the clone to /_/,
        // which ReproduciblePackageTests covers.
        ProcessResult pack = _checkout.Pack(Project, feed, Version, "-p:ContinuousIntegrationBuild=false");
        Assert.That(pack.ExitCode, Is.Zero, pack.ToString());

        using ZipArchive package = ZipFile.OpenRead(Path.Combine(feed, $"Compress.Runtime.{Version}.nupkg"));
        XDocument nuspec = XDocument.Load(package.GetEntry("Compress.Runtime.nuspec")!.Open());
        XElement repository = nuspec.Descendants().Single(e => e.Name.LocalName == "repository");
        using var dll = new MemoryStream();
        using (Stream entry = package.GetEntry("lib/net10.0/Compress.Runtime.dll")!.Open())
        {
            entry.CopyTo(dll);
        }

        return (repository, EmbeddedPdb.Read(dll.ToArray()));
    }

    private void AssertRepositoryWithoutUrl(XElement repository)
    {
        Assert.That((string?)repository.Attribute("type"), Is.EqualTo("git"));
        Assert.That((string?)repository.Attribute("commit"), Is.EqualTo(_checkout.Head));
        Assert.That(repository.Attribute("url"), Is.Null);
    }
}
