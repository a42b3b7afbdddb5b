namespace Compress.Cli;

/// <summary>Process exit codes; the MSBuild task relies on them.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int InternalError = 2;
}
