using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Compress.Tasks;

/// <summary>
/// Finds the dotnet host that runs compress.dll, the way the .NET SDK's own tasks do:
/// an explicit path, else DOTNET_HOST_PATH (set by the dotnet CLI for MSBuild), else
/// <c>dotnet</c> on PATH.
/// </summary>
internal static class DotNetHostLocator
{
    /// <summary>The host's file name on this OS.</summary>
    public static string HostFileName { get; } =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";

    /// <summary>
    /// Returns the full path of the host, or <see langword="null"/> when none was found.
    /// </summary>
    /// <param name="explicitPath">A path chosen by the build (may be empty).</param>
    /// <param name="getEnvironmentVariable">Reads an environment variable (injected for tests).</param>
    public static string? Locate(string? explicitPath, Func<string, string?> getEnvironmentVariable)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            return explicitPath;
        }

        string? fromEnvironment = getEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrWhiteSpace(fromEnvironment) && File.Exists(fromEnvironment))
        {
            return fromEnvironment;
        }

        return FindOnPath(getEnvironmentVariable("PATH"));
    }

    private static string? FindOnPath(string? searchPath)
    {
        if (string.IsNullOrEmpty(searchPath))
        {
            return null;
        }

        foreach (string directory in searchPath!.Split(Path.PathSeparator))
        {
            if (directory.Length == 0)
            {
                continue;
            }

            string candidate = Path.Combine(directory.Trim('"'), HostFileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
