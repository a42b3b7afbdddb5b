using System.Globalization;

namespace Compress.Tasks.Tests;

/// <summary>
/// Compress.Tasks and Compress.Runtime packed once per test run, with a unique prerelease version (NuGet caches
/// packages by id and version, so a re-packed same version would be ignored), into a temporary local feed
/// shared by every end-to-end fixture. <see cref="PackedPackagesCleanup"/> deletes the feed and the cached copies.
/// </summary>
internal static class PackedPackages
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);
    private static readonly Lazy<PackResult> Packed = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly List<(string Id, string Version)> CachedPackages = [];

    /// <summary>Temporary folder holding the feed, the artifacts of the pack and the test projects.</summary>
    public static string Root { get; } = Path.Combine(Path.GetTempPath(), "compress-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The unique version of both packages.</summary>
    public static string Version { get; } = "0.1.0-e2e." + DateTime.UtcNow.Ticks.ToString(CultureInfo.InvariantCulture);

    /// <summary>The local feed with both packages (and packages that tests add).</summary>
    public static string Feed => Path.Combine(Root, "feed");

    public static bool WasPacked => Packed.IsValueCreated;

    /// <summary>Packs (first call only) and returns the pack's output; the caller asserts success.</summary>
    public static PackResult Ensure() => Packed.Value;

    /// <summary>Registers a package a test put in the global packages folder, to be deleted at the end.</summary>
    public static void RegisterCachedPackage(string id, string version)
    {
        lock (CachedPackages)
        {
            CachedPackages.Add((id, version));
        }
    }

    public static void Cleanup()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        lock (CachedPackages)
        {
            foreach ((string id, string version) in CachedPackages.Append(("compress.tasks", Version)).Append(("compress.runtime", Version)))
            {
                string cached = Path.Combine(packages, id.ToLowerInvariant(), version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
        }
    }

    private static PackResult Pack()
    {
        string artifacts = Path.Combine(Root, "artifacts");
        var outputs = new List<ProcessResult>();
        // Runtime first: the Tasks pack then finds it built in the same artifacts folder.
        foreach (string project in new[] { "src/Compress.Runtime", "src/Compress.Tasks" })
        {
            ProcessResult pack = DotNetProcess.Run(
                RepositoryPaths.RepositoryRoot, PackTimeout,
                "pack", project, "-c", "Release", "--artifacts-path", artifacts, "-o", Feed,
                $"-p:Version={Version}", "-nodeReuse:false", "-tl:off", "-v:m");
            outputs.Add(pack);
            if (pack.ExitCode != 0)
            {
                break;
            }
        }

        return new PackResult(outputs.All(o => o.ExitCode == 0), string.Join(Environment.NewLine, outputs));
    }
}

/// <summary>Whether packing succeeded, and everything the pack commands printed.</summary>
internal sealed record PackResult(bool Succeeded, string Output);

/// <summary>Deletes the shared feed and cached test packages once every fixture of this assembly has run.</summary>
[SetUpFixture]
public sealed class PackedPackagesCleanup
{
    [OneTimeTearDown]
    public void DeletePackedPackages() => PackedPackages.Cleanup();
}
