using Compress.Core.Diagnostics;

namespace Compress.Cli;

/// <summary>Turns any exception escaping a command into a coded diagnostic instead of a stack trace.</summary>
internal static class CommandRunner
{
    public static int Guard(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (CompressException e)
        {
            ConsoleLog.Write(e.Diagnostic);
            return ExitCodes.UserError;
        }
#pragma warning disable CA1031 // Last-resort handler: the user gets a coded message, details go to stderr.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ConsoleLog.Write(Diagnostic.Error(DiagnosticCodes.Internal, $"Internal error: {e.Message} (please report this)"));
            Console.Error.WriteLine(e);
            return ExitCodes.InternalError;
        }
    }
}
