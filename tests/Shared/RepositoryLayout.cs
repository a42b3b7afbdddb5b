using System.Runtime.CompilerServices;

namespace Compress.Tests;

/// <summary>
/// Where tests find the repository (the folder holding Compress.slnx) and the shared models and data
/// beside it (../shared). Compiled into every test project (tests/Directory.Build.props).
/// </summary>
internal static class RepositoryLayout
{
    private static readonly Lazy<string> Root = new(() => FindRoot());

    /// <summary>The folder holding Compress.slnx.</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>../shared beside the checkout.</summary>
    public static string SharedDirectory => Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    /// <summary>A shared model by file name without extension, e.g. "digits-mlp".</summary>
    public static string SharedModel(string name) => Path.Combine(SharedDirectory, "models", name + ".onnx");

    /// <summary>A shared data file by file name, e.g. "digits_test_x.npy".</summary>
    public static string SharedData(string file) => Path.Combine(SharedDirectory, "data", file);

    // Builds with an artifacts path outside the checkout put the test binaries elsewhere, so the path
    // of this source file (recorded by the compiler) is the second place to start from.
    private static string FindRoot([CallerFilePath] string sourceFile = "")
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "." })
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
