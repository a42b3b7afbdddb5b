using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace Compress.Tasks.Tests;

/// <summary>
/// Packs Compress.Tasks and Compress.Runtime from two clones of the same commit, in different folders and at
/// different times, as a CI build does (<c>ContinuousIntegrationBuild=true</c>), and checks that the packages
/// are byte for byte the same: one fixed entry order, a fixed .psmdcp name and, as every entry's time, the
/// commit's time.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("EndToEnd")]
public sealed class ReproduciblePackageTests
{
    private const string Version = "0.1.0-reproducible";
    private const string GitHubRemote = "https://github.com/example/compress.git";
    private static readonly string[] Packages = ["Compress.Runtime", "Compress.Tasks"];

    private string _root = null!;
    private RepositoryCheckout _first = null!;
    private string _firstFeed = null!;
    private string _secondFeed = null!;

    [OneTimeSetUp]
    public void PackFromTwoClones()
    {
        Assume.That(RepositoryCheckout.GitAvailable(), Is.True, "needs git and a git checkout of the repository");
        _root = Path.Combine(Path.GetTempPath(), "compress-repro-" + Guid.NewGuid().ToString("N")[..8]);
        _first = RepositoryCheckout.Clone(Path.Combine(_root, "first", "compress"));
        RepositoryCheckout second = RepositoryCheckout.Clone(Path.Combine(_root, "second", "a-longer-checkout-path", "compress"));
        _firstFeed = Path.Combine(_root, "feed-first");
        _secondFeed = Path.Combine(_root, "feed-second");
        foreach ((RepositoryCheckout checkout, string feed) in new[] { (_first, _firstFeed), (second, _secondFeed) })
        {
            checkout.SetOrigin(GitHubRemote);
            foreach (string package in Packages)
            {
                ProcessResult pack = checkout.Pack($"src/{package}", feed, Version, "-p:ContinuousIntegrationBuild=true");
                Assert.That(pack.ExitCode, Is.Zero, pack.ToString());
            }
        }
    }

    [OneTimeTearDown]
    public void DeleteClones()
    {
        if (_root is not null && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [TestCaseSource(nameof(Packages))]
    public void TwoPacksOfTheSameCommitAreByteIdentical(string package)
    {
        string first = Path.Combine(_firstFeed, $"{package}.{Version}.nupkg");
        string second = Path.Combine(_secondFeed, $"{package}.{Version}.nupkg");

        Assert.That(Sha256(second), Is.EqualTo(Sha256(first)), () => "entries that differ: " + string.Join(", ", DifferingEntries(first, second)));
    }

    [TestCaseSource(nameof(Packages))]
    public void EveryEntryIsStampedWithTheCommitTime(string package)
    {
        using ZipArchive archive = ZipFile.OpenRead(Path.Combine(_firstFeed, $"{package}.{Version}.nupkg"));
        DateTimeOffset commit = _first.CommitTime;

        // Zip times have a 2-second resolution and no time zone; compared as the commit's UTC clock time (CI runs in UTC).
        Assert.That(archive.Entries.Select(e => e.LastWriteTime.DateTime), Has.All.InRange(commit.UtcDateTime.AddSeconds(-2), commit.UtcDateTime));
        Assert.That(archive.Entries.Select(e => e.FullName), Has.One.EqualTo("package/services/metadata/core-properties/nuget.psmdcp"));
    }

    [Test]
    public void TheTaskAssemblyMapsItsSourcesToTheCommitIndependentlyOfTheCheckoutFolder()
    {
        using ZipArchive archive = ZipFile.OpenRead(Path.Combine(_firstFeed, $"Compress.Tasks.{Version}.nupkg"));
        using var dll = new MemoryStream();
        using (Stream entry = archive.GetEntry("tasks/netstandard2.0/Compress.Tasks.dll")!.Open())
        {
            entry.CopyTo(dll);
        }

        EmbeddedPdb pdb = EmbeddedPdb.Read(dll.ToArray());

        Assert.That(pdb.SourceLink, Is.Not.Null);
        Dictionary<string, string> map = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(pdb.SourceLink!)!["documents"];
        // A CI build maps the checkout folder to /_/, so the PDB names no machine path.
        Assert.That(map, Is.EqualTo(new Dictionary<string, string> { ["/_/*"] = $"https://raw.githubusercontent.com/example/compress/{_first.Head}/*" }));
        Assert.That(pdb.Documents, Has.All.Matches<PdbDocument>(d => d.Path.StartsWith("/_/", StringComparison.Ordinal)));
    }

    private static string Sha256(string file)
    {
        using FileStream stream = File.OpenRead(file);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static IEnumerable<string> DifferingEntries(string first, string second)
    {
        using ZipArchive a = ZipFile.OpenRead(first);
        using ZipArchive b = ZipFile.OpenRead(second);
        Dictionary<string, (uint Crc, DateTimeOffset Time)> inSecond = b.Entries.ToDictionary(e => e.FullName, e => (e.Crc32, e.LastWriteTime));
        return [.. a.Entries
            .Where(e => !inSecond.TryGetValue(e.FullName, out var other) || other != (e.Crc32, e.LastWriteTime))
            .Select(e => e.FullName)
            .Concat(inSecond.Keys.Except(a.Entries.Select(e => e.FullName)))];
    }
}
