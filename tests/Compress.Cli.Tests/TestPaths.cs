using System.Runtime.CompilerServices;

namespace Compress.Cli.Tests;

/// <summary>The shared models beside the checkout (../shared next to the folder holding Compress.slnx).</summary>
internal static class TestPaths
{
    public static string SharedModel(string name) => Path.Combine(Shared(), "models", name + ".onnx");

    public static string SharedData(string file) => Path.Combine(Shared(), "data", file);

    private static string Shared([CallerFilePath] string sourceFile = "")
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "." })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Compress.slnx")))
                {
                    return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
                }
            }
        }

        throw new InvalidOperationException("No Compress.slnx above the tests.");
    }
}
