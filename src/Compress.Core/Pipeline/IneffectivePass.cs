using System.Globalization;
using Compress.Core.Passes;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// Finds a quantize, prune or reconstruct pass that changed nothing, so the build can say so (CMP3001) instead of
/// shipping an unchanged model in silence: typically a pass placed after one that already replaced its weights
/// (prune after quantize), or op types and node names that match nothing in the model.
/// </summary>
public static class IneffectivePass
{
    private const int ReasonsShown = 3;

    /// <summary>The warning text for <paramref name="pass"/>, or null when it did what it is for.</summary>
    /// <param name="pass">The pass as written in the spec.</param>
    /// <param name="reports">What running it reported (static quantization reports its clean-up first).</param>
    public static string? Describe(PassSpec pass, IReadOnlyList<PassReport> reports)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(reports);
        (bool ineffective, string what) = pass switch
        {
            QuantizePassSpec q => (reports.Sum(r => r.NodesQuantized) == 0, $"'quantize' (mode {SpecKeys.ModeName(q.Mode)}) quantized no node"),
            PrunePassSpec => (reports.Sum(r => r.Count("layers_pruned")) == 0, "'prune' pruned no layer"),
            ReconstructPassSpec => (reports.Sum(r => r.Count("layers_reconstructed")) == 0, "'reconstruct' refitted no layer"),
            _ => (false, string.Empty),
        };
        if (!ineffective)
        {
            return null;
        }

        var reasons = reports.SelectMany(r => r.SkippedNodes)
            .GroupBy(s => s.Reason, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        if (reasons.Count == 0)
        {
            return $"{what}: no node of the model is one it handles (check op_types_to_quantize, nodes_to_quantize or the model's operators).";
        }

        string shown = string.Join("; ", reasons.Take(ReasonsShown).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} ({g.Count()})")));
        string more = reasons.Count > ReasonsShown ? string.Create(CultureInfo.InvariantCulture, $"; {reasons.Count - ReasonsShown} other reason(s) in the report") : string.Empty;
        string hint = reasons.Any(g => g.Key.Contains("not a constant", StringComparison.Ordinal))
            ? " An earlier pass may have replaced the float weights already: prune and reconstruct go before quantize."
            : reasons.Any(g => g.Key == "op type not selected") ? " op_types_to_quantize selects which operators are quantized." : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{what}; {reasons.Sum(g => g.Count())} node(s) skipped: {shown}{more}.{hint}");
    }
}
