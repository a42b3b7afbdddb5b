using System.Text;
using System.Text.Json;
using Compress.Core.IO;

namespace Compress.Core.Reports;

/// <summary>
/// The files written next to <c>&lt;name&gt;.report.json</c>: the Markdown summary <c>&lt;name&gt;.report.md</c> and the
/// charts <c>&lt;name&gt;.report.size.png</c> and <c>&lt;name&gt;.report.layers.png</c> (when there is per-layer data).
/// </summary>
public static class ReportCompanionFiles
{
    /// <summary>The companion paths of a report (whether they exist or not), Markdown first.</summary>
    public static IReadOnlyList<string> PathsOf(string reportJsonPath)
    {
        string stem = Stem(reportJsonPath);
        return [stem + ".md", stem + ".size.png", stem + ".layers.png"];
    }

    /// <summary>Renders the Markdown summary of a report file (charts referenced when they exist next to it).</summary>
    public static string RenderMarkdown(string reportJsonPath)
    {
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(reportJsonPath));
        IReadOnlyList<string> paths = PathsOf(reportJsonPath);
        return ReportMarkdown.Render(report.RootElement, [.. paths.Skip(1).Where(File.Exists).Select(Path.GetFileName).OfType<string>()]);
    }

    /// <summary>
    /// (Re)writes the Markdown summary and the charts of a report file, atomically; a chart without data is
    /// removed so no stale chart stays behind. Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> Write(string reportJsonPath)
    {
        ArgumentNullException.ThrowIfNull(reportJsonPath);
        using JsonDocument report = JsonDocument.Parse(File.ReadAllBytes(reportJsonPath));
        IReadOnlyList<string> paths = PathsOf(reportJsonPath);
        var written = new List<string>();
        var charts = new List<string>();
        foreach ((string path, byte[]? png) in new[] { (paths[1], ReportCharts.SizeChart(report.RootElement)), (paths[2], ReportCharts.LayerChart(report.RootElement)) })
        {
            if (png is null)
            {
                File.Delete(path);
                continue;
            }

            AtomicFile.WriteAllBytes(path, png);
            written.Add(path);
            charts.Add(Path.GetFileName(path));
        }

        AtomicFile.WriteAllBytes(paths[0], Encoding.UTF8.GetBytes(ReportMarkdown.Render(report.RootElement, charts)));
        written.Insert(0, paths[0]);
        return written;
    }

    private static string Stem(string reportJsonPath) =>
        reportJsonPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? reportJsonPath[..^".json".Length] : reportJsonPath;
}
