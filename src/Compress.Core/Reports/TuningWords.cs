using System.Text.Json;
using Compress.Core.Passes;

namespace Compress.Core.Reports;

/// <summary>
/// How a report names what tuning did with a layer, after the passes it could hold back: a quantization user reads "kept
/// in float", a pruning user "kept unpruned", and a schedule with both "kept as in the original".
/// </summary>
/// <param name="Kept">Participle for a layer left as in the original ("kept in float").</param>
/// <param name="Again">What a trim step did when the layer was not needed ("quantized again").</param>
/// <param name="Stays">What a trim step found when the layer was needed ("stays in float").</param>
internal sealed record TuningWords(string Kept, string Again, string Stays)
{
    private static readonly TuningWords Quantizing = new("kept in float", "quantized again", "stays in float");
    private static readonly TuningWords Pruning = new("kept unpruned", "pruned again", "stays unpruned");
    private static readonly TuningWords Both = new("kept as in the original", "compressed again", "stays as in the original");

    /// <summary>The words for the passes listed in a report's <c>passes</c> array (quantizing ones when it has none).</summary>
    public static TuningWords For(JsonElement report)
    {
        string[] passes = report.TryGetProperty("passes", out JsonElement array) && array.ValueKind == JsonValueKind.Array
            ? [.. array.EnumerateArray().Select(p => p.TryGetProperty("pass", out JsonElement name) ? name.GetString() ?? string.Empty : string.Empty)]
            : [];
        bool pruning = passes.Any(IsPruning);
        bool other = passes.Any(p => !IsPruning(p) && p is not (Reconstruction.PassName or GraphCleanup.PassName));
        return pruning && other ? Both : pruning ? Pruning : Quantizing;
    }

    private static bool IsPruning(string pass) => pass is MagnitudePruning.PassName or StructuredPruning.PassName;
}
