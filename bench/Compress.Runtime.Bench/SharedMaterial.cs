using System.Reflection;

namespace Compress.Runtime.Bench;

/// <summary>Finds the shared models and data (../shared beside the checkout), like the tests do.</summary>
internal static class SharedMaterial
{
    public static string Model(string fileName) => Path.Combine(Root(), "models", fileName);

    public static string Data(string fileName) => Path.Combine(Root(), "data", fileName);

    private static string Root()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Compress.slnx")))
            {
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
        }

        return typeof(SharedMaterial).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CompressSharedDir")?.Value
            ?? throw new DirectoryNotFoundException("No Compress.slnx above the benchmark and no shared folder recorded at build time.");
    }
}
