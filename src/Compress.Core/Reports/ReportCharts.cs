using System.Globalization;
using System.Text.Json;
using ScottPlot;

namespace Compress.Core.Reports;

/// <summary>
/// PNG charts of a model report (ScottPlot, renders headless): output size before/after, and per-layer error —
/// tuning's measured sensitivity when tuning ran, else the SQNR of quantized weights.
/// </summary>
public static class ReportCharts
{
    private const int Width = 900;
    private const int Height = 480;

    /// <summary>Bar chart of the source and output size in KiB; null when the report has no sizes.</summary>
    public static byte[]? SizeChart(JsonElement report)
    {
        if (!report.TryGetProperty("source_bytes", out JsonElement source) || !report.TryGetProperty("output_bytes", out JsonElement output))
        {
            return null;
        }

        string name = report.TryGetProperty("name", out JsonElement n) ? n.GetString() ?? "model" : "model";
        return Bars(
            $"{name}: size before and after",
            "KiB",
            ["source", "output"],
            [source.GetInt64() / 1024.0, output.GetInt64() / 1024.0]);
    }

    /// <summary>Per-layer chart: measured sensitivity (tuning) or weight SQNR in dB; null when the report has neither.</summary>
    public static byte[]? LayerChart(JsonElement report)
    {
        string name = report.TryGetProperty("name", out JsonElement n) ? n.GetString() ?? "model" : "model";
        if (report.TryGetProperty("evaluation", out JsonElement evaluation) && evaluation.ValueKind == JsonValueKind.Object
            && evaluation.TryGetProperty("layer_sensitivity", out JsonElement layers) && layers.ValueKind == JsonValueKind.Array && layers.GetArrayLength() > 0)
        {
            List<JsonElement> items = [.. layers.EnumerateArray()];
            return Bars(
                $"{name}: error each layer adds when quantized (relative output error)",
                "sensitivity",
                [.. items.Select(l => l.GetProperty("node").GetString() ?? "?")],
                [.. items.Select(l => l.GetProperty("sensitivity").GetDouble())]);
        }

        if (report.TryGetProperty("weight_sqnr", out JsonElement weights) && weights.ValueKind == JsonValueKind.Array && weights.GetArrayLength() > 0)
        {
            List<JsonElement> items = [.. weights.EnumerateArray()];
            return Bars(
                $"{name}: SQNR of quantized weights (higher is better)",
                "SQNR (dB)",
                [.. items.Select(w => w.GetProperty("tensor").GetString() ?? "?")],
                [.. items.Select(w => w.GetProperty("sqnr_db").GetDouble())]);
        }

        return null;
    }

    private static byte[] Bars(string title, string yLabel, string[] labels, double[] values)
    {
        var plot = new Plot();
        var bars = plot.Add.Bars(values);
        for (int i = 0; i < bars.Bars.Count; i++)
        {
            bars.Bars[i].Label = values[i].ToString("G4", CultureInfo.InvariantCulture);
        }

        bars.ValueLabelStyle.FontSize = 11;
        double[] positions = [.. Enumerable.Range(0, values.Length).Select(i => (double)i)];
        plot.Axes.Bottom.SetTicks(positions, [.. labels.Select(Shorten)]);
        if (labels.Length > 4)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = 35;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;

            // Rotated node names need room below the axis, or they are cut off at the image edge.
            plot.Axes.Bottom.MinimumSize = 12 + (7 * labels.Select(Shorten).Max(l => l.Length));
        }

        plot.Axes.Margins(bottom: 0);
        plot.Title(title, 14);
        plot.YLabel(yLabel);
        return plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png);
    }

    // Long node names (e.g. "/features/features.12/conv/Conv") keep their informative end.
    private static string Shorten(string label) => label.Length <= 28 ? label : "…" + label[^27..];
}
