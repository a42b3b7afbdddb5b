using Compress.Tests;

namespace Compress.Tasks.Tests;

/// <summary>The repository root and the shared models and data beside it.</summary>
internal static class RepositoryPaths
{
    public static string RepositoryRoot => RepositoryLayout.RepositoryRoot;

    public static string SharedModels => Path.Combine(RepositoryLayout.SharedDirectory, "models");

    public static string SharedData => Path.Combine(RepositoryLayout.SharedDirectory, "data");
}
