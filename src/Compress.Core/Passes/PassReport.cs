using System.Text.Json;
using System.Text.Json.Serialization;
using Compress.Core.Evaluation;
using Compress.Core.Onnx.Proto;
using Compress.Core.Reports;

namespace Compress.Core.Passes;

/// <summary>
/// What a pass did to a model: counts, skipped nodes with reasons and notes. Serialises to JSON
/// with snake_case keys in a fixed order (<see cref="ToJson"/>), the form the pipeline report embeds.
/// </summary>
public sealed class PassReport
{
    private readonly List<SkippedNode> _skipped = [];
    private readonly List<string> _notes = [];
    private readonly List<KeyValuePair<string, long>> _counts = [];
    private readonly List<QuantizedWeightRecord> _quantizedWeights = [];
    private readonly Dictionary<string, QuantizedWeightRecord> _quantizedWeightsByTensor = new(StringComparer.Ordinal);

    /// <summary>Creates an empty report for the pass called <paramref name="pass"/>.</summary>
    public PassReport(string pass) => Pass = pass;

    /// <summary>The pass name, e.g. <c>dynamic_quantization</c>.</summary>
    [JsonPropertyOrder(0)]
    public string Pass { get; }

    /// <summary>Nodes replaced by quantized equivalents.</summary>
    [JsonPropertyOrder(1)]
    public int NodesQuantized { get; set; }

    /// <summary>Distinct weight tensors quantized (a weight shared by several nodes counts once).</summary>
    [JsonPropertyOrder(2)]
    public int WeightsQuantized { get; set; }

    /// <summary>Elements of the quantized weight tensors.</summary>
    [JsonPropertyOrder(3)]
    public long ParametersQuantized { get; set; }

    /// <summary>Float constants removed because nothing reads them any more.</summary>
    [JsonPropertyOrder(4)]
    public int ConstantsRemoved { get; set; }

    /// <summary>Candidate nodes left unchanged, in graph order.</summary>
    [JsonPropertyOrder(5)]
    public IReadOnlyList<SkippedNode> SkippedNodes => _skipped;

    /// <summary>Remarks about the whole run (forms chosen, opset imports added, …).</summary>
    [JsonPropertyOrder(6)]
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>
    /// Named counts of passes that are not about quantization (e.g. <c>identity_removed</c> of the
    /// graph clean-up), in the order first counted; null (and left out of the JSON) when none.
    /// </summary>
    [JsonPropertyOrder(7)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, long>? Counts => _counts.Count == 0 ? null : _counts.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>The named count, or 0 when never counted.</summary>
    public long Count(string name) => _counts.FirstOrDefault(p => p.Key == name).Value;

    /// <summary>Adds <paramref name="amount"/> to the named count (creating it at 0).</summary>
    public void AddCount(string name, long amount = 1)
    {
        int index = _counts.FindIndex(p => p.Key == name);
        if (index < 0)
        {
            _counts.Add(new KeyValuePair<string, long>(name, amount));
            return;
        }

        _counts[index] = new KeyValuePair<string, long>(name, _counts[index].Value + amount);
    }

    /// <summary>
    /// Weights this pass quantized; not serialised: the pipeline reports those whose integer tensor is still in the
    /// final model (<see cref="WeightSqnr.Collect"/>).
    /// </summary>
    internal IReadOnlyList<QuantizedWeightRecord> QuantizedWeights => _quantizedWeights;

    /// <summary>
    /// Records that <paramref name="integerTensor"/> now stands for the float weight <paramref name="tensor"/> of
    /// <paramref name="elements"/> elements, which it represents with <paramref name="sqnrDb"/>.
    /// </summary>
    internal void AddQuantizedWeight(string integerTensor, string tensor, long elements, double sqnrDb)
    {
        var record = new QuantizedWeightRecord(integerTensor, tensor, elements, sqnrDb);
        _quantizedWeights.Add(record);
        _quantizedWeightsByTensor[integerTensor] = record;
    }

    /// <summary>Records that <paramref name="node"/> was quantized reading <paramref name="integerTensor"/> (recorded with <see cref="AddQuantizedWeight"/>).</summary>
    internal void AddWeightReader(string integerTensor, NodeProto node) =>
        _quantizedWeightsByTensor[integerTensor].AddReader(NodeLabels.Of(node));

    /// <summary>Records a skipped node.</summary>
    public void AddSkipped(SkippedNode node) => _skipped.Add(node);

    /// <summary>Records a note (duplicates are ignored).</summary>
    public void AddNote(string note)
    {
        if (!_notes.Contains(note))
        {
            _notes.Add(note);
        }
    }

    /// <summary>The report as JSON with snake_case keys.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);

    /// <inheritdoc/>
    public override string ToString() => _counts.Count == 0
        ? $"{Pass}: {NodesQuantized} nodes, {WeightsQuantized} weights ({ParametersQuantized} parameters) quantized, {_skipped.Count} skipped"
        : $"{Pass}: {string.Join(", ", _counts.Select(p => $"{p.Key} {p.Value}"))}";
}
