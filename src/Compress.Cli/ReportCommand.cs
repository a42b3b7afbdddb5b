using System.CommandLine;
using Compress.Core.Reports;

namespace Compress.Cli;

/// <summary>
/// <c>compress report &lt;name.report.json&gt; [--write]</c>: prints the Markdown summary of a model report, or
/// (re)writes <c>name.report.md</c> and the PNG charts next to it.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var report = new Argument<FileInfo>("report") { Description = "A <name>.report.json written by 'compress run'." };
        var write = new Option<bool>("--write") { Description = "Write <name>.report.md and the PNG charts next to the JSON instead of printing." };
        var command = new Command("report", "Print the Markdown summary of a model report, or regenerate its .md and .png files.") { report, write };
        command.SetAction(parse => Run(parse.GetRequiredValue(report), parse.GetValue(write)));
        return command;
    }

    private static int Run(FileInfo report, bool write)
    {
        if (!report.Exists)
        {
            throw new Core.Diagnostics.CompressException(Core.Diagnostics.DiagnosticCodes.ModelNotFound, $"Report '{report.FullName}' was not found.", report.FullName);
        }

        if (write)
        {
            foreach (string path in ReportCompanionFiles.Write(report.FullName))
            {
                Console.Out.WriteLine(path);
            }

            return ExitCodes.Success;
        }

        Console.Out.Write(ReportCompanionFiles.RenderMarkdown(report.FullName));
        return ExitCodes.Success;
    }
}
