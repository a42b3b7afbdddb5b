using Compress.Tests;

namespace Compress.Cli.Tests;

/// <summary>The shared models and data beside the checkout.</summary>
internal static class TestPaths
{
    public static string SharedModel(string name) => RepositoryLayout.SharedModel(name);

    public static string SharedData(string file) => RepositoryLayout.SharedData(file);
}
