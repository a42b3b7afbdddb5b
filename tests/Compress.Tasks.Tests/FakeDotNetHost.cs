using System.Text;

namespace Compress.Tasks.Tests;

/// <summary>
/// A shell script standing in for the dotnet host: the task runs <c>host compress.dll run ...</c>,
/// so the script sees exactly the arguments the real host would get, and plays the tool's part.
/// </summary>
internal sealed class FakeDotNetHost : IDisposable
{
    private FakeDotNetHost(string folder)
    {
        Folder = folder;
        HostPath = Path.Combine(folder, "fake-dotnet.sh");
        ToolAssemblyPath = Path.Combine(folder, "compress.dll");
        ArgumentsFile = Path.Combine(folder, "args.txt");
        File.WriteAllText(ToolAssemblyPath, "not a real assembly");
    }

    /// <summary>A scratch folder that holds the script and whatever a test puts there.</summary>
    public string Folder { get; }

    public string HostPath { get; }

    /// <summary>A placeholder compress.dll (the task checks that it exists).</summary>
    public string ToolAssemblyPath { get; }

    /// <summary>The script writes each argument it received here, one per line.</summary>
    public string ArgumentsFile { get; }

    /// <summary>Creates a host whose script body is <paramref name="body"/> (bash), after recording its arguments.</summary>
    public static FakeDotNetHost Create(string body)
    {
        string folder = Path.Combine(Path.GetTempPath(), "compress-tasks-tests", Guid.NewGuid().ToString("N"), "with space");
        Directory.CreateDirectory(folder);
        var host = new FakeDotNetHost(folder);
        var script = new StringBuilder()
            .Append("#!/bin/bash\n")
            .Append("printf '%s\\n' \"$@\" > '").Append(host.ArgumentsFile).Append("'\n")
            .Append(body).Append('\n');
        File.WriteAllText(host.HostPath, script.ToString());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(host.HostPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return host;
    }

    /// <summary>The arguments the script received, or an empty list when it never ran.</summary>
    public IReadOnlyList<string> ReceivedArguments() =>
        File.Exists(ArgumentsFile) ? File.ReadAllLines(ArgumentsFile) : [];

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(Folder)!, recursive: true);
}
