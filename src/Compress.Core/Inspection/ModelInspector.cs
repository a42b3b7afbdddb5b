using System.Runtime.InteropServices;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Inspection;

/// <summary>Builds a <see cref="ModelInspection"/> from a loaded model (all graphs, including subgraphs).</summary>
public static class ModelInspector
{
    /// <summary>How many of the largest float constants get a per-tensor sparsity line.</summary>
    public const int LargestTensorCount = 10;

    /// <summary>
    /// Summarises <paramref name="model"/>; <paramref name="fileBytes"/> is the size of the file it came from and
    /// <paramref name="externalDataBytes"/> the size of the external data files it refers to.
    /// </summary>
    public static ModelInspection Inspect(ModelProto model, long fileBytes, long externalDataBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new ModelGraph(model);
        var histogram = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (GraphNode gn in graph.AllNodes())
        {
            string op = ModelGraph.IsDefaultDomain(gn.Node.Domain) ? gn.Node.OpType : $"{gn.Node.Domain}:{gn.Node.OpType}";
            histogram[op] = histogram.GetValueOrDefault(op) + 1;
        }

        var byType = new SortedDictionary<string, (int Count, long Elements, long Bytes)>(StringComparer.Ordinal);
        var sparsity = new List<TensorSparsity>();
        long parameters = 0, floatElements = 0, zeros = 0;
        foreach ((GraphScope scope, TensorProto tensor) in ConstantTensors(graph))
        {
            long elements = TensorData.ElementCount(tensor);
            parameters += elements;
            string type = ElementTypeName(tensor.DataType);
            (int count, long e, long b) = byType.GetValueOrDefault(type);
            byType[type] = (count + 1, e + elements, b + ValueBytes(tensor, elements));
            if (IsFloat(tensor) && !TensorData.IsExternal(tensor) && elements > 0)
            {
                long z = CountZeros(tensor);
                floatElements += elements;
                zeros += z;
                sparsity.Add(new TensorSparsity(tensor.Name, scope.Path, elements, z, z / (double)elements));
            }
        }

        GraphProto main = model.Graph;
        var initializerNames = main.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        return new ModelInspection
        {
            FileBytes = fileBytes,
            ExternalDataBytes = externalDataBytes,
            IrVersion = model.IrVersion,
            Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            OpsetImports = model.OpsetImport.Select(o => new OpsetImport(o.Domain, o.Version)).ToList(),
            Inputs = main.Input.Where(i => !initializerNames.Contains(i.Name)).Select(Signature).ToList(),
            Outputs = main.Output.Select(Signature).ToList(),
            GraphCount = graph.Graphs.Count,
            NodeCount = histogram.Values.Sum(),
            OpHistogram = histogram,
            ParameterCount = parameters,
            Constants = byType.Select(p => new ElementTypeSummary(p.Key, p.Value.Count, p.Value.Elements, p.Value.Bytes)).ToList(),
            Sparsity = new SparsitySummary(
                floatElements,
                zeros,
                floatElements == 0 ? 0 : zeros / (double)floatElements,
                sparsity.OrderByDescending(s => s.Elements).ThenBy(s => s.Graph, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal)
                    .Take(LargestTensorCount).ToList()),
        };
    }

    /// <summary>
    /// Elements of every constant tensor (<see cref="ModelInspection.ParameterCount"/>) without the rest of the
    /// inspection, whose zero counts read every weight: the pipeline needs only this number.
    /// </summary>
    public static long CountParameters(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ConstantTensors(new ModelGraph(model)).Sum(c => TensorData.ElementCount(c.Tensor));
    }

    /// <summary>Zero elements of a float tensor; raw float32 data is counted in place (no copy), vectorised.</summary>
    private static long CountZeros(TensorProto tensor) =>
        tensor.HasRawData && (TensorProto.Types.DataType)tensor.DataType == TensorProto.Types.DataType.Float
            ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).Count(0f)
            : TensorData.ReadFloats(tensor).LongCount(v => v == 0f);

    /// <summary>Every initializer and Constant-node value of every graph, in graph order.</summary>
    internal static IEnumerable<(GraphScope Scope, TensorProto Tensor)> ConstantTensors(ModelGraph graph)
    {
        foreach (GraphScope scope in graph.Graphs)
        {
            foreach (TensorProto t in scope.Graph.Initializer)
            {
                yield return (scope, t);
            }

            foreach (NodeProto node in scope.Graph.Node)
            {
                if (node.OpType == "Constant" && ModelGraph.IsDefaultDomain(node.Domain) && node.Output.Count == 1
                    && ModelGraph.ConstantNodeValue(node, node.Output[0]) is { } value)
                {
                    yield return (scope, value.Name.Length > 0 ? value : WithName(value, node.Output[0]));
                }
            }
        }
    }

    private static TensorProto WithName(TensorProto value, string name)
    {
        TensorProto copy = value.Clone();
        copy.Name = name;
        return copy;
    }

    private static long ValueBytes(TensorProto tensor, long elements)
    {
        var type = (TensorProto.Types.DataType)tensor.DataType;
        if (type == TensorProto.Types.DataType.String)
        {
            return tensor.StringData.Sum(s => (long)s.Length);
        }

        return tensor.HasRawData ? tensor.RawData.Length : elements * TensorData.ElementSize(type);
    }

    private static bool IsFloat(TensorProto tensor) => (TensorProto.Types.DataType)tensor.DataType is
        TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16;

    private static TensorSignature Signature(ValueInfoProto value)
    {
        TypeProto.Types.Tensor? tensor = value.Type?.TensorType;
        if (tensor is null)
        {
            return new TensorSignature(value.Name, value.Type?.ValueCase.ToString().ToLowerInvariant() ?? "unknown", null);
        }

        IReadOnlyList<string>? shape = tensor.Shape?.Dim.Select(d =>
            d.HasDimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.HasDimParam ? d.DimParam : "?").ToList();
        return new TensorSignature(value.Name, ElementTypeName(tensor.ElemType), shape);
    }

    /// <summary>numpy-style element type names (float32, int64, …).</summary>
    public static string ElementTypeName(int dataType) => (TensorProto.Types.DataType)dataType switch
    {
        TensorProto.Types.DataType.Float => "float32",
        TensorProto.Types.DataType.Double => "float64",
        TensorProto.Types.DataType.Float16 => "float16",
        TensorProto.Types.DataType.Bfloat16 => "bfloat16",
        TensorProto.Types.DataType.Int8 => "int8",
        TensorProto.Types.DataType.Uint8 => "uint8",
        TensorProto.Types.DataType.Int16 => "int16",
        TensorProto.Types.DataType.Uint16 => "uint16",
        TensorProto.Types.DataType.Int32 => "int32",
        TensorProto.Types.DataType.Uint32 => "uint32",
        TensorProto.Types.DataType.Int64 => "int64",
        TensorProto.Types.DataType.Uint64 => "uint64",
        TensorProto.Types.DataType.Bool => "bool",
        TensorProto.Types.DataType.String => "string",
        var other => other.ToString().ToLowerInvariant(),
    };
}
