namespace Compress.Tasks.Tests;

[TestFixture]
public sealed class DotNetHostLocatorTests
{
    private string _folder = null!;

    [SetUp]
    public void CreateFolders()
    {
        _folder = Path.Combine(Path.GetTempPath(), "compress-tasks-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_folder, "env"));
        Directory.CreateDirectory(Path.Combine(_folder, "path2"));
        Directory.CreateDirectory(Path.Combine(_folder, "empty"));
        File.WriteAllText(Path.Combine(_folder, "env", DotNetHostLocator.HostFileName), "");
        File.WriteAllText(Path.Combine(_folder, "path2", DotNetHostLocator.HostFileName), "");
    }

    [TearDown]
    public void DeleteFolders() => Directory.Delete(_folder, recursive: true);

    private static Func<string, string?> Environment(string? hostPath, string? path) =>
        name => name switch
        {
            "DOTNET_HOST_PATH" => hostPath,
            "PATH" => path,
            _ => null,
        };

    private string PathVariable => string.Join(Path.PathSeparator, Path.Combine(_folder, "empty"), Path.Combine(_folder, "path2"));

    [Test]
    public void ExplicitPathWins()
    {
        string? found = DotNetHostLocator.Locate("/explicit/dotnet", Environment(Path.Combine(_folder, "env", DotNetHostLocator.HostFileName), PathVariable));

        Assert.That(found, Is.EqualTo("/explicit/dotnet"));
    }

    [Test]
    public void DotNetHostPathIsUsedWhenNoExplicitPath()
    {
        string env = Path.Combine(_folder, "env", DotNetHostLocator.HostFileName);

        Assert.That(DotNetHostLocator.Locate("", Environment(env, PathVariable)), Is.EqualTo(env));
    }

    [Test]
    public void PathIsSearchedInOrderWhenDotNetHostPathIsUnsetOrMissing()
    {
        string expected = Path.Combine(_folder, "path2", DotNetHostLocator.HostFileName);

        Assert.That(DotNetHostLocator.Locate(null, Environment(null, PathVariable)), Is.EqualTo(expected));
        Assert.That(DotNetHostLocator.Locate(null, Environment(Path.Combine(_folder, "nope", "dotnet"), PathVariable)), Is.EqualTo(expected));
    }

    [Test]
    public void NothingFoundGivesNull()
    {
        Assert.That(DotNetHostLocator.Locate(null, Environment(null, Path.Combine(_folder, "empty"))), Is.Null);
    }
}
