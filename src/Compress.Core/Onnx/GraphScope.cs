using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>
/// One graph of a model — the main graph or a subgraph held by a node attribute (<c>If</c>'s
/// branches, <c>Loop</c>/<c>Scan</c> bodies) — with the scope it is nested in. Names a subgraph
/// does not define itself resolve in its <see cref="Parent"/> (ONNX outer-scope rule).
/// </summary>
public sealed class GraphScope
{
    private readonly List<GraphScope> _children = [];

    internal GraphScope(ModelGraph model, GraphProto graph, GraphScope? parent, NodeProto? ownerNode, string? attributeName)
    {
        Model = model;
        Graph = graph;
        Parent = parent;
        OwnerNode = ownerNode;
        AttributeName = attributeName;
        Depth = parent is null ? 0 : parent.Depth + 1;
        Path = parent is null
            ? (graph.HasName && graph.Name.Length > 0 ? graph.Name : "main")
            : $"{parent.Path}/{NodeLabel(ownerNode!)}.{attributeName}";
    }

    /// <summary>The model view this graph belongs to.</summary>
    public ModelGraph Model { get; }

    /// <summary>The graph itself.</summary>
    public GraphProto Graph { get; }

    /// <summary>The enclosing graph; null for the main graph.</summary>
    public GraphScope? Parent { get; }

    /// <summary>The node (in <see cref="Parent"/>) whose attribute holds this graph; null for the main graph.</summary>
    public NodeProto? OwnerNode { get; }

    /// <summary>The attribute of <see cref="OwnerNode"/> that holds this graph (e.g. <c>then_branch</c>).</summary>
    public string? AttributeName { get; }

    /// <summary>0 for the main graph, 1 for its subgraphs, and so on.</summary>
    public int Depth { get; }

    /// <summary>A readable, stable location such as <c>main/If_0.then_branch</c>.</summary>
    public string Path { get; }

    /// <summary>Subgraphs held by the nodes of this graph, in node order.</summary>
    public IReadOnlyList<GraphScope> Children => _children;

    internal void AddChild(GraphScope child) => _children.Add(child);

    /// <summary>True when this graph itself defines <paramref name="name"/> (input, initializer or node output).</summary>
    public bool DefinesName(string name)
    {
        foreach (ValueInfoProto input in Graph.Input)
        {
            if (input.Name == name)
            {
                return true;
            }
        }

        return FindInitializer(name) is not null || Producer(name) is not null || HasSparseInitializer(name);
    }

    /// <summary>The initializer of this graph named <paramref name="name"/>, if any.</summary>
    public TensorProto? FindInitializer(string name)
    {
        foreach (TensorProto t in Graph.Initializer)
        {
            if (t.Name == name)
            {
                return t;
            }
        }

        return null;
    }

    /// <summary>True when a graph input of this graph is called <paramref name="name"/>.</summary>
    public bool IsGraphInput(string name) => Graph.Input.Any(i => i.Name == name);

    /// <summary>True when a graph output of this graph is called <paramref name="name"/>.</summary>
    public bool IsGraphOutput(string name) => Graph.Output.Any(o => o.Name == name);

    /// <summary>The node of this graph that produces <paramref name="name"/>, if any.</summary>
    public NodeProto? Producer(string name)
    {
        foreach (NodeProto node in Graph.Node)
        {
            if (node.Output.Contains(name))
            {
                return node;
            }
        }

        return null;
    }

    /// <summary>Nodes of this graph (not of its subgraphs) that read <paramref name="name"/>.</summary>
    public IReadOnlyList<NodeProto> Consumers(string name) => Graph.Node.Where(n => n.Input.Contains(name)).ToList();

    /// <summary>
    /// The value of a float constant holding one element as a scalar or a one-element vector (so that, as an operand, it
    /// cannot raise a result's rank, and as a DequantizeLinear scale it is per tensor); null for anything else.
    /// </summary>
    public float? FindFloatScalar(string name) =>
        name.Length > 0
        && FindConstant(name) is { DataType: TensorProto.Types.DataType.Float, Value: { } value }
        && !TensorData.IsExternal(value) && value.Dims.Count <= 1 && TensorData.ElementCount(value) == 1
            ? TensorData.ReadFloats(value)[0]
            : null;

    /// <summary>
    /// The constant tensor behind <paramref name="name"/> as seen from this graph: an initializer or
    /// a Constant node output here or in an outer scope. Null when the name is a graph input, the
    /// output of a non-constant node, an initializer that is also a graph input (IR ≥ 4: an
    /// overridable default, not a constant) or unknown.
    /// </summary>
    public ConstantTensor? FindConstant(string name)
    {
        for (GraphScope? scope = this; scope is not null; scope = scope.Parent)
        {
            TensorProto? initializer = scope.FindInitializer(name);
            if (initializer is not null)
            {
                bool overridable = scope.IsGraphInput(name) && Model.Model.IrVersion >= 4;
                return overridable ? null : new ConstantTensor(scope, name, ConstantSource.Initializer, initializer, null);
            }

            if (scope.IsGraphInput(name))
            {
                return null;
            }

            NodeProto? producer = scope.Producer(name);
            if (producer is not null)
            {
                bool isConstant = producer.OpType == "Constant" && ModelGraph.IsDefaultDomain(producer.Domain);
                return isConstant ? new ConstantTensor(scope, name, ConstantSource.ConstantNode, null, producer) : null;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => Path;

    private bool HasSparseInitializer(string name) => Graph.SparseInitializer.Any(s => s.Values?.Name == name);

    private static string NodeLabel(NodeProto node) => node.Name.Length > 0 ? node.Name : node.OpType;
}
