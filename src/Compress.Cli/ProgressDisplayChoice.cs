namespace Compress.Cli;

/// <summary>
/// Picks how <c>compress run</c> shows progress: a bar redrawn in place when stderr is an interactive terminal,
/// plain periodic lines on stdout when output is redirected (MSBuild, CI logs, files), nothing with <c>--no-progress</c>.
/// </summary>
internal static class ProgressDisplayChoice
{
    /// <summary>Set (to anything but <c>false</c> or <c>0</c>) by CI services; their log viewers mangle carriage returns.</summary>
    public const string CiVariable = "CI";

    /// <summary>The display for this process, or null for none.</summary>
    public static IProgressDisplay? For(bool noProgress, TimeSpan lineInterval)
    {
        if (noProgress)
        {
            return null;
        }

        return IsInteractiveTerminal()
            ? new TerminalProgressBar(Console.Error, TerminalWidth())
            : new PlainProgressLines(Console.Out, lineInterval);
    }

    private static bool IsInteractiveTerminal()
    {
        if (Console.IsErrorRedirected)
        {
            return false;
        }

        string? ci = Environment.GetEnvironmentVariable(CiVariable);
        bool onCi = ci is { Length: > 0 } && ci != "0" && !ci.Equals("false", StringComparison.OrdinalIgnoreCase);
        return !onCi && Environment.GetEnvironmentVariable("TERM") != "dumb";
    }

    private static int TerminalWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : 80;
        }
        catch (IOException)
        {
            return 80;
        }
    }
}
