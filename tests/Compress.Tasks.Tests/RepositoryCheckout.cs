using System.Globalization;

namespace Compress.Tasks.Tests;

/// <summary>
/// A <c>git clone</c> of the repository's committed HEAD in a temporary folder (uncommitted changes are not in it),
/// for tests that pack from a checkout whose remote they choose. Packs use the checkout's own artifacts folder.
/// </summary>
internal sealed class RepositoryCheckout
{
    private static readonly TimeSpan GitTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);

    private RepositoryCheckout(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>Clones the repository into <paramref name="directory"/> (its origin is then the repository's local path).</summary>
    public static RepositoryCheckout Clone(string directory)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        ProcessResult clone = DotNetProcess.RunProgram("git", Path.GetDirectoryName(directory)!, GitTimeout, "clone", "--quiet", RepositoryPaths.RepositoryRoot, directory);
        Assert.That(clone.ExitCode, Is.Zero, clone.ToString());
        return new RepositoryCheckout(directory);
    }

    /// <summary>Whether the repository is a git checkout and git is on PATH.</summary>
    public static bool GitAvailable()
    {
        try
        {
            return DotNetProcess.RunProgram("git", RepositoryPaths.RepositoryRoot, GitTimeout, "rev-parse", "HEAD").ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no git on PATH
        }
    }

    /// <summary>The full id of the checked-out commit.</summary>
    public string Head => Git("rev-parse", "HEAD");

    /// <summary>The committer time of HEAD.</summary>
    public DateTimeOffset CommitTime => DateTimeOffset.FromUnixTimeSeconds(long.Parse(Git("log", "-1", "--format=%ct"), CultureInfo.InvariantCulture));

    /// <summary>Makes <paramref name="url"/> the origin remote (added when the checkout has none).</summary>
    public void SetOrigin(string url)
    {
        if (DotNetProcess.RunProgram("git", Directory, GitTimeout, "remote", "get-url", "origin").ExitCode == 0)
        {
            Git("remote", "set-url", "origin", url);
        }
        else
        {
            Git("remote", "add", "origin", url);
        }
    }

    public void RemoveOrigin() => Git("remote", "remove", "origin");

    /// <summary>
    /// <c>dotnet pack</c> of <paramref name="project"/> (relative to the checkout) into <paramref name="outputFolder"/>,
    /// with every MSBuild warning an error, so that a clean exit code also means "no warnings".
    /// </summary>
    public ProcessResult Pack(string project, string outputFolder, string version, params string[] properties) =>
        DotNetProcess.Run(
            Directory, PackTimeout,
            ["pack", project, "-c", "Release", "-o", outputFolder, $"-p:Version={version}", .. properties,
             "-warnaserror", "-nodeReuse:false", "-tl:off", "-v:m"]);

    private string Git(params string[] arguments)
    {
        ProcessResult git = DotNetProcess.RunProgram("git", Directory, GitTimeout, arguments);
        Assert.That(git.ExitCode, Is.Zero, git.ToString());
        return git.Output.Trim();
    }
}
