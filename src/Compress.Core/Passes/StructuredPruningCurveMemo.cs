using System.Globalization;
using System.Runtime.CompilerServices;
using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Activation-importance curves already measured, by original model content, layer, kept count, data and capture
/// settings. A layer's curve depends only on the original model and the data, not on which other layers are pruned
/// or excluded, and measuring it is half of a structured prune-and-reconstruct run on ocr-det (23 of 47 s): accuracy
/// tuning re-runs the pass from the same original once per candidate and step, so it measures each curve once.
/// One memo serves one model's pass runs, which run one after another (it is not thread-safe).
/// </summary>
public sealed class StructuredPruningCurveMemo
{
    private readonly Dictionary<string, (StructuredPruningCurve? Curve, string? Reason)> curves = new(StringComparer.Ordinal);

    // The original's hash, per model object: a pass run asks for many layers of the same model.
    private readonly ConditionalWeakTable<ModelProto, string> hashes = new();

    /// <summary>How many curves were measured (each once).</summary>
    public int Count => curves.Count;

    /// <summary>The curve of <see cref="StructuredPruningSelection.Curve"/>, measured only the first time.</summary>
    internal StructuredPruningCurve? Curve(ModelProto original, string layer, IReadOnlyList<MagnitudePruningWeight> sinks, int channels, int keep, CalibrationDataSet data, ReconstructionOptions options, out string? reason)
    {
        string model = hashes.GetValue(original, ModelContentHash.Sha256);
        string key = string.Join(
            '\n',
            model,
            layer,
            string.Join('\t', sinks.Select(s => MagnitudePruningWeight.NodeLabel(s.Nodes[0].Node))),
            channels.ToString(CultureInfo.InvariantCulture),
            keep.ToString(CultureInfo.InvariantCulture),
            string.Join('\t', data.Files),
            data.SampleCount.ToString(CultureInfo.InvariantCulture),
            string.Join('\t', options.BatchSize, options.Damping.ToString("R", CultureInfo.InvariantCulture), options.PositionsPerSample, options.MinimumConvRows));
        if (!curves.TryGetValue(key, out (StructuredPruningCurve? Curve, string? Reason) entry))
        {
            StructuredPruningCurve? curve = StructuredPruningSelection.Curve(original, sinks, channels, keep, data, options, out string? why);
            entry = (curve, why);
            curves[key] = entry;
        }

        reason = entry.Reason;
        return entry.Curve;
    }
}
