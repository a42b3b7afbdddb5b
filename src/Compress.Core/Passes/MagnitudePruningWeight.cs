using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// A prunable weight tensor seen as a matrix of output rows × input columns, whatever its storage
/// order: Gemm B with transB = 1 and Conv W are row-major already, MatMul B and Gemm B with
/// transB = 0 are [in, out] (rows are strided). Shared by the pruning and reconstruction passes.
/// </summary>
internal sealed class MagnitudePruningWeight
{
    public MagnitudePruningWeight(ConstantTensor constant, IReadOnlyList<GraphNode> nodes, bool rowsAreContiguous, int rows, int columns)
    {
        Constant = constant;
        Nodes = nodes;
        RowsAreContiguous = rowsAreContiguous;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>The initializer or Constant node holding the weight.</summary>
    public ConstantTensor Constant { get; }

    /// <summary>The nodes reading it as their weight (usually one).</summary>
    public IReadOnlyList<GraphNode> Nodes { get; }

    /// <summary>True for [out, in…] storage (Conv, Gemm transB = 1); false for [in, out] (MatMul, Gemm transB = 0).</summary>
    public bool RowsAreContiguous { get; }

    /// <summary>Output neurons / channels.</summary>
    public int Rows { get; }

    /// <summary>Weights per output (inputs × kernel positions for Conv).</summary>
    public int Columns { get; }

    /// <summary>Total weights.</summary>
    public long Count => (long)Rows * Columns;

    /// <summary>A readable label: the weight name and the first node using it.</summary>
    public string Label => $"{Constant.Name} ({Nodes[0].Node.OpType} {NodeLabel(Nodes[0].Node)})";

    /// <summary>Flat storage index of (row, column).</summary>
    public int Index(int row, int column) => RowsAreContiguous ? (row * Columns) + column : (column * Rows) + row;

    /// <summary>The current values in storage order.</summary>
    public float[] Read() => TensorData.ReadFloats(Constant.Value!);

    /// <summary>Stores <paramref name="values"/> (storage order, same shape) in place of the weight.</summary>
    public void Write(float[] values) =>
        ModelGraph.ReplaceConstant(Constant, TensorData.CreateFloat(Constant.Name, Constant.Dims.ToArray(), values));

    /// <summary>The node name, or its first output when it has none.</summary>
    public static string NodeLabel(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault() ?? node.OpType;

    /// <summary>
    /// The weight matrix read by <paramref name="node"/> (input 1 of Conv, MatMul, Gemm), or the reason it has none:
    /// not a float constant, not rank 2 (rank ≥ 3 for Conv), or read as something else elsewhere (an embedding table, a bias).
    /// </summary>
    public static MagnitudePruningWeight? Resolve(ModelGraph graph, GraphNode node, out string? reason)
    {
        reason = null;
        NodeProto n = node.Node;
        if (n.Input.Count < 2 || n.Input[1].Length == 0)
        {
            reason = "it has no weight input";
            return null;
        }

        ConstantTensor? constant = node.Graph.FindConstant(n.Input[1]);
        if (constant?.Value is null)
        {
            reason = "its weight is not a constant";
            return null;
        }

        if (constant.DataType != TensorProto.Types.DataType.Float)
        {
            reason = $"its weight is {constant.DataType}, not float";
            return null;
        }

        if (!TryLayout(n, constant.Dims, out bool contiguous, out int rows, out int columns))
        {
            reason = $"its weight has shape [{string.Join(",", constant.Dims)}], not a matrix of outputs × inputs this pass knows";
            return null;
        }

        var readers = new List<GraphNode>();
        foreach (GraphNode use in graph.FindUses(constant.Owner, constant.Name))
        {
            bool sameRole = use.Node.OpType == n.OpType && ModelGraph.IsDefaultDomain(use.Node.Domain)
                && use.Node.Input.IndexOf(constant.Name) == 1 && use.Node.Input.Count(i => i == constant.Name) == 1
                && TryLayout(use.Node, constant.Dims, out bool c2, out _, out _) && c2 == contiguous;
            if (!sameRole)
            {
                reason = $"its weight '{constant.Name}' is also read by {use.Node.OpType} {NodeLabel(use.Node)} in another role (embedding, bias or other layout)";
                return null;
            }

            readers.Add(use);
        }

        if (constant.Owner.IsGraphOutput(constant.Name))
        {
            reason = $"its weight '{constant.Name}' is a graph output";
            return null;
        }

        return new MagnitudePruningWeight(constant, readers, contiguous, rows, columns);
    }

    private static bool TryLayout(NodeProto node, IReadOnlyList<long> dims, out bool contiguous, out int rows, out int columns)
    {
        contiguous = false;
        rows = columns = 0;
        switch (node.OpType)
        {
            case "Conv" when dims.Count >= 3:
                contiguous = true;
                rows = (int)dims[0];
                columns = (int)dims.Skip(1).Aggregate(1L, (a, b) => a * b);
                return rows > 0 && columns > 0;
            case "Gemm" when dims.Count == 2:
                contiguous = ModelGraph.GetInt(node, "transB", 0) != 0;
                rows = (int)(contiguous ? dims[0] : dims[1]);
                columns = (int)(contiguous ? dims[1] : dims[0]);
                return rows > 0 && columns > 0;
            case "MatMul" when dims.Count == 2:
                rows = (int)dims[1];
                columns = (int)dims[0];
                return rows > 0 && columns > 0;
            default:
                return false;
        }
    }
}
