using System.Reflection;

namespace Compress.Runtime.Tests;

/// <summary>Finds the shared models and data (../shared beside the checkout).</summary>
internal static class SharedMaterial
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string Model(string fileName) => Path.Combine(Root.Value, "models", fileName);

    public static string Data(string fileName) => Path.Combine(Root.Value, "data", fileName);

    private static string FindRoot()
    {
        // The rule: walk up from the test binaries to the checkout (the folder with Compress.slnx), then ../shared.
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Compress.slnx")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }

        // Built with an artifacts path outside the checkout: use the location MSBuild recorded.
        string? recorded = typeof(SharedMaterial).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CompressSharedDir")?.Value;
        if (recorded is not null && Directory.Exists(recorded))
        {
            return recorded;
        }

        throw new DirectoryNotFoundException($"No Compress.slnx above '{AppContext.BaseDirectory}' and no shared folder recorded at build time.");
    }
}
