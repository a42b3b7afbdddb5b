using System.Text.Json;
using System.Text.Json.Serialization;
using Compress.Core.Reports;

namespace Compress.Core.Inspection;

/// <summary>
/// A summary of an ONNX model: operators (including subgraph nodes), parameters, constant storage
/// by element type, sparsity, opsets and graph signature. Built by <see cref="ModelInspector"/>;
/// rendered by <see cref="ToText"/> and <see cref="ToJson"/>.
/// </summary>
public sealed class ModelInspection
{
    /// <summary>Size of the model file in bytes (as given to the inspector).</summary>
    [JsonPropertyOrder(0)]
    public required long FileBytes { get; init; }

    /// <summary>ONNX IR version.</summary>
    [JsonPropertyOrder(1)]
    public required long IrVersion { get; init; }

    /// <summary>Producer name and version, e.g. <c>pytorch 1.13.0</c>.</summary>
    [JsonPropertyOrder(2)]
    public required string Producer { get; init; }

    /// <summary>Imported operator sets, in file order.</summary>
    [JsonPropertyOrder(3)]
    public required IReadOnlyList<OpsetImport> OpsetImports { get; init; }

    /// <summary>Main graph inputs (initializers listed as inputs excluded).</summary>
    [JsonPropertyOrder(4)]
    public required IReadOnlyList<TensorSignature> Inputs { get; init; }

    /// <summary>Main graph outputs.</summary>
    [JsonPropertyOrder(5)]
    public required IReadOnlyList<TensorSignature> Outputs { get; init; }

    /// <summary>Number of graphs (main graph plus all nested subgraphs).</summary>
    [JsonPropertyOrder(6)]
    public required int GraphCount { get; init; }

    /// <summary>Nodes in all graphs.</summary>
    [JsonPropertyOrder(7)]
    public required int NodeCount { get; init; }

    /// <summary>Operator → node count over all graphs, ordinal key order; non-default domains as <c>domain:Op</c>.</summary>
    [JsonPropertyOrder(8)]
    public required IReadOnlyDictionary<string, int> OpHistogram { get; init; }

    /// <summary>Elements of all constant tensors (initializers and Constant nodes, all graphs).</summary>
    [JsonPropertyOrder(9)]
    public required long ParameterCount { get; init; }

    /// <summary>Constant tensors grouped by element type, in element-type name order.</summary>
    [JsonPropertyOrder(10)]
    public required IReadOnlyList<ElementTypeSummary> Constants { get; init; }

    /// <summary>Exactly-zero elements of float constants.</summary>
    [JsonPropertyOrder(11)]
    public required SparsitySummary Sparsity { get; init; }

    /// <summary>Bytes of the external data files the model refers to (0 when its weights are all inside the file).</summary>
    [JsonPropertyOrder(12)]
    public long ExternalDataBytes { get; init; }

    /// <summary>The inspection as indented JSON with snake_case keys in a fixed order.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ReportJson.Options);

    /// <summary>The inspection as aligned plain-text tables.</summary>
    public string ToText() => InspectionTextRenderer.Render(this);
}
