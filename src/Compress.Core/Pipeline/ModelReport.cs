using System.Text.Json.Serialization;
using Compress.Core.Evaluation;
using Compress.Core.Passes;

namespace Compress.Core.Pipeline;

/// <summary>
/// What happened to one model, written next to it as <c>&lt;name&gt;.report.json</c>.
/// Serialized with snake_case names (see <see cref="ReportJson"/>); the names are stable: other tools read them.
/// </summary>
public sealed class ModelReport
{
    public int SchemaVersion { get; init; } = 1;

    public required string Name { get; init; }

    public required string Source { get; init; }

    public required string Output { get; init; }

    public long SourceBytes { get; init; }

    public long OutputBytes { get; set; }

    /// <summary>Output size as a fraction of the source size.</summary>
    public double SizeRatio => SourceBytes == 0 ? 0 : Math.Round((double)OutputBytes / SourceBytes, 4);

    public required string SourceSha256 { get; init; }

    public string OutputSha256 { get; set; } = "";

    /// <summary>Parameters (elements of constant tensors) of the source model.</summary>
    public long Parameters { get; init; }

    public int NodesQuantized => Passes.Sum(p => p.NodesQuantized);

    public IList<PassReport> Passes { get; } = [];

    public long DurationMs { get; set; }

    /// <summary>Initializers stored as ONNX sparse initializers and the bytes that saved (<c>storage: sparse</c>); left out of the JSON otherwise.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Onnx.SparseStorageSummary? SparseStorage { get; set; }

    public required string ToolVersion { get; init; }

    /// <summary>Metrics before/after against the spec's <c>evaluate</c> budget; null when the model has no <c>evaluate</c> block.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public EvaluationReport? Evaluation { get; set; }

    /// <summary>The steps of accuracy tuning (on_failure: tune); null when tuning did not run.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TuningStep>? Tuning { get; set; }

    /// <summary>Whether a build cache supplied or stored the outputs; left out of the JSON without a cache.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ReportCacheInfo? Cache { get; set; }

    /// <summary>SQNR of the weights quantized to int8/uint8 (float vs dequantized); null when no pass ran.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<WeightQuantizationError>? WeightSqnr { get; set; }

    /// <summary>
    /// Per-tensor activation SQNR against the float model on calibration data, worst first (models with a static
    /// quantize pass); left out of the JSON when null.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ActivationQuantizationError>? ActivationSqnr { get; set; }
}
