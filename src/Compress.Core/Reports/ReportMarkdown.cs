using System.Globalization;
using System.Text;
using System.Text.Json;
using Compress.Core.Evaluation;

namespace Compress.Core.Reports;

/// <summary>The Markdown summary of a model report (<c>&lt;name&gt;.report.md</c>), rendered from the report JSON.</summary>
public static class ReportMarkdown
{
    // Tables of per-tensor SQNR show the worst rows; the JSON report has them all.
    private const int MarkdownRows = 10;

    private static readonly (string Key, string Label)[] MetricRows =
    [
        ("accuracy", "top-1 accuracy"),
        ("top_k_accuracy", "top-k accuracy"),
        ("agreement", "top-1 agreement with the original"),
        ("mask_iou", "mask IoU (value ≥ threshold)"),
        ("mask_iou_min", "mask IoU, worst sample"),
        ("cosine", "cosine similarity"),
        ("max_abs_error", "max absolute error"),
        ("mean_abs_error", "mean absolute error"),
        ("relative_error", "relative error (L2)"),
    ];

    /// <summary>Renders the summary; <paramref name="charts"/> are PNG file names (next to the .md) to embed.</summary>
    public static string Render(JsonElement report, IReadOnlyList<string>? charts = null)
    {
        var md = new StringBuilder();
        var words = TuningWords.For(report);
        string name = Text(report, "name");
        md.Append(CultureInfo.InvariantCulture, $"# {name}: compression report\n\n");
        md.Append("| | |\n|---|---|\n");
        md.Append(CultureInfo.InvariantCulture, $"| source | `{Text(report, "source")}` |\n");
        md.Append(CultureInfo.InvariantCulture, $"| output | `{Text(report, "output")}` |\n");
        long sourceBytes = Long(report, "source_bytes"), outputBytes = Long(report, "output_bytes");
        md.Append(CultureInfo.InvariantCulture, $"| size | {sourceBytes:N0} B → {outputBytes:N0} B ({(sourceBytes == 0 ? 0 : 100.0 * outputBytes / sourceBytes):F1} %) |\n");
        md.Append(CultureInfo.InvariantCulture, $"| parameters | {Long(report, "parameters"):N0} |\n");
        md.Append(CultureInfo.InvariantCulture, $"| nodes quantized | {Long(report, "nodes_quantized"):N0} |\n");
        md.Append(CultureInfo.InvariantCulture, $"| duration | {Long(report, "duration_ms"):N0} ms |\n");
        md.Append(CultureInfo.InvariantCulture, $"| tool version | {Text(report, "tool_version")} |\n\n");

        if (report.TryGetProperty("passes", out JsonElement passes) && passes.GetArrayLength() > 0)
        {
            md.Append("## Passes\n\n| pass | nodes quantized | weights quantized | parameters quantized | skipped |\n|---|---:|---:|---:|---:|\n");
            foreach (JsonElement pass in passes.EnumerateArray())
            {
                md.Append(CultureInfo.InvariantCulture, $"| {Text(pass, "pass")} | {Long(pass, "nodes_quantized")} | {Long(pass, "weights_quantized")} | {Long(pass, "parameters_quantized"):N0} | {(pass.TryGetProperty("skipped_nodes", out JsonElement s) ? s.GetArrayLength() : 0)} |\n");
            }

            md.Append('\n');
        }

        if (report.TryGetProperty("evaluation", out JsonElement evaluation) && evaluation.ValueKind == JsonValueKind.Object)
        {
            AppendEvaluation(md, evaluation, words);
        }

        if (report.TryGetProperty("tuning", out JsonElement tuning) && tuning.ValueKind == JsonValueKind.Array && tuning.GetArrayLength() > 0)
        {
            // A detector's budget is its mask IoU: the column shows only when the steps measured it.
            bool maskIou = tuning.EnumerateArray().Any(s => s.GetProperty("metric").TryGetProperty("mask_iou", out JsonElement m) && m.ValueKind == JsonValueKind.Number);
            // Settings steps (tune_quantization) keep no layer: their column names the settings they tried instead.
            bool settingsSteps = tuning.EnumerateArray().Any(s => s.TryGetProperty("quantization", out JsonElement q) && q.ValueKind == JsonValueKind.String);
            string keptHeader = settingsSteps ? words.Kept + " / settings tried" : words.Kept;
            md.Append(CultureInfo.InvariantCulture, $"## Tuning\n\n| step | {keptHeader} | accuracy drop | agreement |{(maskIou ? " mask IoU |" : string.Empty)} relative error | budget | outcome |\n|---:|---|---:|---:|{(maskIou ? "---:|" : string.Empty)}---:|---|---|\n");
            foreach (JsonElement step in tuning.EnumerateArray())
            {
                string excluded = string.Join(", ", step.GetProperty("excluded").EnumerateArray().Select(e => $"`{e.GetString()}`"));
                if (step.TryGetProperty("quantization", out JsonElement settings) && settings.ValueKind == JsonValueKind.String)
                {
                    excluded = $"settings: {settings.GetString()}" + (excluded.Length > 0 ? "; " + excluded : string.Empty);
                }

                JsonElement metric = step.GetProperty("metric");
                string iou = maskIou ? $" {Number(metric, "mask_iou")} |" : string.Empty;
                md.Append(CultureInfo.InvariantCulture, $"| {Long(step, "step")} | {excluded} | {Number(step, "accuracy_drop")} | {Number(metric, "agreement")} |{iou} {Number(metric, "relative_error")} | {(step.GetProperty("passed").GetBoolean() ? "met" : "missed")} | {StepOutcome(step, words)} |\n");
            }

            md.Append('\n');
        }

        if (report.TryGetProperty("weight_sqnr", out JsonElement weights) && weights.ValueKind == JsonValueKind.Array && weights.GetArrayLength() > 0)
        {
            // Lowest SQNR first: the weights whose nodes are worth a look (or a place in nodes_to_exclude).
            md.Append("## Quantized weights, noisiest first\n\n| tensor | read by | elements | SQNR (dB) |\n|---|---|---:|---:|\n");
            foreach (JsonElement weight in weights.EnumerateArray().OrderBy(w => w.TryGetProperty("sqnr_db", out JsonElement v) ? v.GetDouble() : double.MaxValue).Take(MarkdownRows))
            {
                string readers = weight.TryGetProperty("nodes", out JsonElement nodes) && nodes.ValueKind == JsonValueKind.Array && nodes.GetArrayLength() > 0
                    ? string.Join(", ", nodes.EnumerateArray().Select(n => $"`{n.GetString()}`"))
                    : "–";
                md.Append(CultureInfo.InvariantCulture, $"| `{Text(weight, "tensor")}` | {readers} | {Long(weight, "elements"):N0} | {Number(weight, "sqnr_db")} |\n");
            }

            if (weights.GetArrayLength() > MarkdownRows)
            {
                md.Append(CultureInfo.InvariantCulture, $"\n{weights.GetArrayLength() - MarkdownRows:N0} more in `weight_sqnr` of the JSON report.\n");
            }

            md.Append('\n');
        }

        if (report.TryGetProperty("activation_sqnr", out JsonElement activations) && activations.ValueKind == JsonValueKind.Array && activations.GetArrayLength() > 0)
        {
            // Worst first: the layers to exclude (nodes_to_exclude) when accuracy suffers.
            md.Append("## Activations with the most quantization noise\n\n| tensor | produced by | SQNR (dB) |\n|---|---|---:|\n");
            foreach (JsonElement activation in activations.EnumerateArray().Take(MarkdownRows))
            {
                string node = activation.TryGetProperty("node", out JsonElement n) && n.GetString() is { Length: > 0 } producer ? $"`{producer}` " : string.Empty;
                md.Append(CultureInfo.InvariantCulture, $"| `{Text(activation, "tensor")}` | {node}({Text(activation, "producer")}) | {Number(activation, "sqnr_db")} |\n");
            }

            md.Append('\n');
        }

        if (charts is { Count: > 0 })
        {
            md.Append("## Charts\n\n");
            foreach (string chart in charts)
            {
                md.Append(CultureInfo.InvariantCulture, $"![{Path.GetFileNameWithoutExtension(chart)}]({chart})\n\n");
            }
        }

        return md.ToString();
    }

    private static void AppendEvaluation(StringBuilder md, JsonElement evaluation, TuningWords words)
    {
        bool passed = evaluation.GetProperty("passed").GetBoolean();
        md.Append("## Evaluation\n\n");
        md.Append(CultureInfo.InvariantCulture, $"Output `{Text(evaluation, "output")}` on {Long(evaluation, "samples")} samples, {(evaluation.GetProperty("labels").GetBoolean() ? "with labels" : "compared with the original (no labels)")}. ");
        md.Append(CultureInfo.InvariantCulture, $"Budget **{(passed ? "met" : "missed")}** (on_failure: {Text(evaluation, "on_failure")}).\n\n");
        md.Append("| budget | limit |\n|---|---:|\n");
        foreach (JsonProperty limit in evaluation.GetProperty("budget").EnumerateObject())
        {
            md.Append(CultureInfo.InvariantCulture, $"| {limit.Name} | {limit.Value.GetDouble().ToString("G6", CultureInfo.InvariantCulture)} |\n");
        }

        md.Append("\n| metric | original | compressed |\n|---|---:|---:|\n");
        JsonElement before = evaluation.GetProperty("before"), after = evaluation.GetProperty("after");
        foreach ((string key, string label) in MetricRows)
        {
            if (before.TryGetProperty(key, out _) || after.TryGetProperty(key, out _))
            {
                md.Append(CultureInfo.InvariantCulture, $"| {label} | {Number(before, key)} | {Number(after, key)} |\n");
            }
        }

        md.Append(CultureInfo.InvariantCulture, $"| accuracy drop | | {Number(evaluation, "accuracy_drop")} |\n\n");
        foreach (JsonElement violation in evaluation.GetProperty("violations").EnumerateArray())
        {
            md.Append(CultureInfo.InvariantCulture, $"- missed: {violation.GetString()}\n");
        }

        if (evaluation.TryGetProperty("tuning_decisions", out JsonElement decisions))
        {
            string key = decisions.TryGetProperty("key", out JsonElement k) ? $" (key `{k.GetString()![..12]}`)" : "";
            string status = decisions.GetProperty("status").GetString() switch
            {
                "reused" => "Reused cached tuning decisions" + key + ": one evaluation instead of a search.",
                "stale" => "Cached tuning decisions" + key + " no longer met the budget; tuning searched again and cached the new ones.",
                "stored" => "Tuning decisions were cached" + key + " for later builds.",
                _ => "Tuning decisions were not cached.",
            };
            md.Append(CultureInfo.InvariantCulture, $"{status} Compressed variants evaluated: {Long(evaluation, "evaluations")}.\n\n");
        }

        bool tunedSettings = evaluation.TryGetProperty("tuned_quantization", out JsonElement settings);
        if (tunedSettings)
        {
            // Worded as the tuning steps word it (QuantizationChoice.ToString).
            QuantizationChoice chosen = settings.Deserialize<QuantizationChoice>(ReportJson.Options)!;
            md.Append(CultureInfo.InvariantCulture, $"Quantization settings chosen by tuning for the static quantize passes: **{chosen}**.\n\n");
        }

        List<string> kept = [.. evaluation.GetProperty("kept_at_higher_precision").EnumerateArray().Select(k => k.GetString() ?? string.Empty)];
        if (kept.Count > 0)
        {
            md.Append(CultureInfo.InvariantCulture, $"Layers {words.Kept}: {string.Join(", ", kept.Select(k => $"`{k}`"))}.\n\n");
        }
        else if (!tunedSettings)
        {
            md.Append('\n');
        }
    }

    /// <summary>What a tuning step did: a search step's new node kept or dropped, or a trim step's node compressed again or not.</summary>
    private static string StepOutcome(JsonElement step, TuningWords words)
    {
        bool kept = !step.TryGetProperty("kept", out JsonElement k) || k.GetBoolean();
        if (step.TryGetProperty("quantization", out JsonElement q) && q.ValueKind == JsonValueKind.String && !step.GetProperty("excluded").EnumerateArray().Any())
        {
            return kept ? "chosen" : "not chosen";
        }

        if (step.TryGetProperty("requantized", out JsonElement r) && r.ValueKind == JsonValueKind.String)
        {
            return kept ? $"`{r.GetString()}` {words.Again} (not needed)" : $"`{r.GetString()}` {words.Stays} (needed)";
        }

        return kept ? "kept" : "dropped (did not help)";
    }

    private static string Text(JsonElement element, string key) =>
        element.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? string.Empty : string.Empty;

    private static long Long(JsonElement element, string key) =>
        element.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? (long)value.GetDouble() : 0;

    private static string Number(JsonElement element, string key) =>
        element.TryGetProperty(key, out JsonElement value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble().ToString("0.######", CultureInfo.InvariantCulture)
            : "–";
}
