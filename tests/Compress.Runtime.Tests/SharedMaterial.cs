using Compress.Tests;

namespace Compress.Runtime.Tests;

/// <summary>Shared models and data by file name.</summary>
internal static class SharedMaterial
{
    public static string Model(string fileName) => Path.Combine(RepositoryLayout.SharedDirectory, "models", fileName);

    public static string Data(string fileName) => RepositoryLayout.SharedData(fileName);
}
