using System.Runtime.CompilerServices;

namespace Compress.Tasks.Tests;

/// <summary>Finds the repository root (the folder holding Compress.slnx) and the shared models beside it.</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(() => FindRoot());

    public static string RepositoryRoot => Root.Value;

    public static string SharedModels => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "models"));

    public static string SharedData => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data"));

    // Builds with --artifacts-path put the test binaries outside the checkout, so the path of this source
    // file (recorded by the compiler) is the fallback when the binaries' folder has no Compress.slnx above it.
    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? string.Empty })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Compress.slnx")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException($"No Compress.slnx above {AppContext.BaseDirectory} or {sourceFile}.");
    }
}
