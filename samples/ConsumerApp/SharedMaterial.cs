using System.Reflection;

namespace ConsumerApp;

/// <summary>Where the shared models and data are: recorded at build time, overridable by the first argument.</summary>
internal static class SharedMaterial
{
    public static string DefaultDirectory { get; } =
        typeof(SharedMaterial).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CompressSharedDir")?.Value
        ?? Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "shared"));
}
