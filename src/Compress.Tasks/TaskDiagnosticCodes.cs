namespace Compress.Tasks;

/// <summary>
/// Codes the MSBuild task reports itself. The task cannot reference Compress.Core (net10.0, heavy),
/// so the codes are repeated here; they are reserved in Compress.Core's DiagnosticCodes.
/// </summary>
internal static class TaskDiagnosticCodes
{
    /// <summary>The compress tool exited with a non-zero code without printing a diagnostic.</summary>
    public const string ToolFailed = "CMP9002";

    /// <summary>The dotnet host or the compress tool assembly could not be found.</summary>
    public const string ToolNotFound = "CMP9003";

    /// <summary>A Compress build property has a value the task does not accept.</summary>
    public const string InvalidProperty = "CMP9004";
}
