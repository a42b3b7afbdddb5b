using System.Text.Json;
using Compress.Core.Diagnostics;
using Compress.Core.Evaluation;
using Compress.Core.IO;
using Compress.Core.Reports;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// Tuning decisions kept between builds in <c>&lt;cache&gt;/tuning/&lt;key&gt;.json</c>, so a build whose output is not
/// cached (another cache folder, a changed report or packing setting, a new engine) tries the earlier decisions
/// with one evaluation before searching again. The key covers only what decides which layers must stay in float:
/// the passes, the budget, the scored output and sample count, and the bytes of the source model, its pass data
/// and the evaluation data and labels. Not the engine: cached decisions are always checked before they are used.
/// Cache problems never fail a build; they mean tuning afresh.
/// </summary>
public sealed class TuningDecisionCache(IReadOnlyList<string> directories, IPipelineLog log)
{
    // Bumped when the file layout or the key's recipe changes.
    private const string Recipe = "compress-tuning-v1";

    private const string Folder = "tuning";

    /// <summary>Whether any cache folder is configured.</summary>
    public bool IsEnabled => directories.Count > 0;

    /// <summary>The key of <paramref name="model"/>'s tuning decisions; null when there is no cache or an input cannot be read.</summary>
    public string? KeyOf(ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!IsEnabled || model.Evaluate is not { } evaluate)
        {
            return null;
        }

        try
        {
            using var hash = new ContentHash();
            hash.AppendLine(Recipe);
            hash.AppendLine(SpecFingerprint.OfValue(model.Passes));
            hash.AppendLine(SpecFingerprint.OfValue(evaluate.Budget));
            hash.AppendLine(SpecFingerprint.OfValue(new object?[] { evaluate.Output, evaluate.Samples, evaluate.MaxExcludedLayers, evaluate.Threshold, evaluate.TuneQuantization }));
            hash.AppendFiles(ModelInputFiles.Of(model));
            return hash.Finish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The decisions stored under <paramref name="key"/> in the first cache that has readable ones, or null.</summary>
    public TuningDecision? TryLoad(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (string directory in directories)
        {
            string path = PathOf(directory, key);
            try
            {
                if (File.Exists(path) && JsonSerializer.Deserialize<TuningDecision>(File.ReadAllBytes(path), ReportJson.Options) is { } decision
                    && (decision.KeptAtHigherPrecision is { Count: > 0 } || decision.Quantization is not null))
                {
                    // A file written by hand (or by an older version) may lack the sensitivities; they are informative only.
                    return decision with { KeptAtHigherPrecision = decision.KeptAtHigherPrecision ?? [], LayerSensitivity = decision.LayerSensitivity ?? [] };
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
            {
                log.Info($"compress: cached tuning decisions {key[..12]} in {directory} are unusable ({e.Message}); tuning instead");
            }
        }

        return null;
    }

    /// <summary>Stores <paramref name="decision"/> under <paramref name="key"/> in every cache (best effort).</summary>
    public void Store(string key, TuningDecision decision)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(decision);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(decision, ReportJson.Options);
        foreach (string directory in directories)
        {
            try
            {
                AtomicFile.WriteAllBytes(PathOf(directory, key), json);
            }
            catch (CompressException e)
            {
                log.Info($"compress: tuning decisions not cached in {directory}: {e.Diagnostic.Message}");
            }
        }
    }

    private static string PathOf(string directory, string key) => Path.Combine(directory, Folder, key + ".json");
}
