using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Onnx;

/// <summary>
/// A thin view over a <see cref="ModelProto"/> for passes: every graph including nested subgraphs
/// with their scopes, constant lookup across scopes (initializers and Constant nodes), uses of a
/// name, node insertion/removal that keeps topological order, unique names and opset lookup.
/// The view reads and edits the proto in place; it caches only the list of graphs and the set of
/// names in use (both kept current by the editing methods here).
/// </summary>
public sealed class ModelGraph
{
    /// <summary>The domain name of the default ONNX operator set.</summary>
    public const string DefaultDomain = "";

    /// <summary>The domain of ONNX Runtime's contrib operators.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private List<GraphScope> _graphs = [];

    /// <summary>Creates a view over <paramref name="model"/> (which must have a graph).</summary>
    public ModelGraph(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        model.Graph ??= new GraphProto();
        Rescan();
    }

    /// <summary>The model being viewed.</summary>
    public ModelProto Model { get; }

    /// <summary>The main graph.</summary>
    public GraphScope Main => _graphs[0];

    /// <summary>Every graph, main graph first, subgraphs depth-first in node and attribute order.</summary>
    public IReadOnlyList<GraphScope> Graphs => _graphs;

    /// <summary>Every node of every graph, in the order of <see cref="Graphs"/> then node order.</summary>
    public IEnumerable<GraphNode> AllNodes()
    {
        foreach (GraphScope scope in _graphs)
        {
            foreach (NodeProto node in scope.Graph.Node)
            {
                yield return new GraphNode(scope, node);
            }
        }
    }

    /// <summary>True for the default ONNX domain (empty or <c>ai.onnx</c>).</summary>
    public static bool IsDefaultDomain(string? domain) => string.IsNullOrEmpty(domain) || domain == "ai.onnx";

    /// <summary>The imported opset version of <paramref name="domain"/>, or 0 when not imported.</summary>
    public long OpsetVersion(string domain)
    {
        foreach (OperatorSetIdProto opset in Model.OpsetImport)
        {
            bool same = IsDefaultDomain(domain) ? IsDefaultDomain(opset.Domain) : opset.Domain == domain;
            if (same)
            {
                return opset.Version;
            }
        }

        return 0;
    }

    /// <summary>Adds an opset import for <paramref name="domain"/> when the model has none; returns true when added.</summary>
    public bool EnsureOpset(string domain, long version)
    {
        if (OpsetVersion(domain) != 0)
        {
            return false;
        }

        Model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        return true;
    }

    /// <summary>
    /// A name not used anywhere in the model (tensor, node or graph names), derived from
    /// <paramref name="baseName"/>; reserved so later calls return other names. Deterministic.
    /// </summary>
    public string UniqueName(string baseName)
    {
        string name = baseName;
        for (int i = 1; !_names.Add(name); i++)
        {
            name = $"{baseName}_{i}";
        }

        return name;
    }

    /// <summary>True when <paramref name="name"/> is used anywhere in the model.</summary>
    public bool IsNameTaken(string name) => _names.Contains(name);

    /// <summary>
    /// The nodes that read <paramref name="name"/> as defined in <paramref name="owner"/>: nodes of
    /// <paramref name="owner"/> and of nested subgraphs that do not redefine (shadow) the name.
    /// </summary>
    public IReadOnlyList<GraphNode> FindUses(GraphScope owner, string name)
    {
        EnsureOwned(owner);
        var uses = new List<GraphNode>();
        CollectUses(owner, name, uses);
        return uses;
    }

    /// <summary>True when <paramref name="name"/> (as defined in <paramref name="owner"/>) is read by a node or is a graph output there or in a nested subgraph.</summary>
    public bool IsUsed(GraphScope owner, string name) => FindUses(owner, name).Count > 0 || IsOutputInScope(owner, name);

    /// <summary>Replaces <paramref name="node"/> by <paramref name="replacements"/> at the same position.</summary>
    public void ReplaceNode(GraphScope scope, NodeProto node, IReadOnlyList<NodeProto> replacements)
    {
        int index = IndexOf(scope, node);
        scope.Graph.Node.RemoveAt(index);
        InsertAt(scope, index, replacements);
        if (HasSubgraph(node) || replacements.Any(HasSubgraph))
        {
            Rescan();
        }
    }

    /// <summary>Inserts <paramref name="nodes"/> just before <paramref name="anchor"/> (so they can feed it).</summary>
    public void InsertBefore(GraphScope scope, NodeProto anchor, IReadOnlyList<NodeProto> nodes) =>
        InsertNodes(scope, IndexOf(scope, anchor), nodes);

    /// <summary>Inserts <paramref name="nodes"/> just after <paramref name="anchor"/> (so they can read its outputs).</summary>
    public void InsertAfter(GraphScope scope, NodeProto anchor, IReadOnlyList<NodeProto> nodes) =>
        InsertNodes(scope, IndexOf(scope, anchor) + 1, nodes);

    /// <summary>
    /// Inserts <paramref name="nodes"/> just after the last node of <paramref name="scope"/> that produces one of
    /// <paramref name="names"/> (Constant nodes), or at the top of the graph when no node does (initializers): the
    /// earliest place they can read all of them.
    /// </summary>
    public void InsertAfterDefinitions(GraphScope scope, IReadOnlyCollection<string> names, IReadOnlyList<NodeProto> nodes)
    {
        EnsureOwned(scope);
        int index = 0;
        for (int i = 0; i < scope.Graph.Node.Count; i++)
        {
            if (scope.Graph.Node[i].Output.Any(names.Contains))
            {
                index = i + 1;
            }
        }

        InsertNodes(scope, index, nodes);
    }

    /// <summary>Removes <paramref name="node"/> from <paramref name="scope"/>.</summary>
    public void RemoveNode(GraphScope scope, NodeProto node)
    {
        scope.Graph.Node.RemoveAt(IndexOf(scope, node));
        if (HasSubgraph(node))
        {
            Rescan();
        }
    }

    /// <summary>Adds an initializer to <paramref name="scope"/> and reserves its name.</summary>
    public void AddInitializer(GraphScope scope, TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(tensor);
        scope.Graph.Initializer.Add(tensor);
        _names.Add(tensor.Name);
    }

    /// <summary>
    /// Adds a constant tensor to <paramref name="scope"/>: an initializer (IR ≥ 4), or for older IR, where every
    /// initializer would also have to be a graph input, a Constant node at the top of the graph.
    /// </summary>
    public void AddConstant(GraphScope scope, TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(tensor);
        if (Model.IrVersion >= 4)
        {
            AddInitializer(scope, tensor);
            return;
        }

        NodeProto constant = CreateNode("Constant", UniqueName(tensor.Name + "_Constant"), [], [tensor.Name]);
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = tensor });
        scope.Graph.Node.Insert(0, constant);
    }

    /// <summary>Replaces the value of a constant, keeping its name and storage form.</summary>
    public static void ReplaceConstant(ConstantTensor constant, TensorProto value)
    {
        ArgumentNullException.ThrowIfNull(constant);
        ArgumentNullException.ThrowIfNull(value);
        value.Name = constant.Name;
        if (constant.Source == ConstantSource.Initializer)
        {
            RepeatedFieldReplace(constant.Owner.Graph.Initializer, constant.Initializer!, value);
            return;
        }

        NodeProto node = constant.ConstantNode!;
        node.Attribute.Clear();
        node.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
    }

    /// <summary>
    /// Removes a constant (initializer or Constant node) and the value_info that describes it when
    /// nothing reads it any more; returns true when removed.
    /// </summary>
    public bool RemoveConstantIfUnused(ConstantTensor constant)
    {
        ArgumentNullException.ThrowIfNull(constant);
        GraphScope owner = constant.Owner;
        if (IsUsed(owner, constant.Name))
        {
            return false;
        }

        if (constant.Source == ConstantSource.Initializer)
        {
            owner.Graph.Initializer.Remove(constant.Initializer!);
        }
        else
        {
            NodeProto node = constant.ConstantNode!;
            if (node.Output.Count != 1)
            {
                return false;
            }

            owner.Graph.Node.Remove(node);
        }

        ValueInfoProto? info = owner.Graph.ValueInfo.FirstOrDefault(v => v.Name == constant.Name);
        if (info is not null)
        {
            owner.Graph.ValueInfo.Remove(info);
        }

        return true;
    }

    /// <summary>
    /// The dense value of a Constant node as a tensor named <paramref name="name"/>: the
    /// <c>value</c> attribute, or a tensor built from <c>value_float(s)</c> / <c>value_int(s)</c>.
    /// Null for sparse or string values.
    /// </summary>
    public static TensorProto? ConstantNodeValue(NodeProto node, string name)
    {
        ArgumentNullException.ThrowIfNull(node);
        foreach (AttributeProto attribute in node.Attribute)
        {
            switch (attribute.Name)
            {
                case "value":
                    return attribute.T;
                case "value_float":
                    return TensorData.CreateFloat(name, [], [attribute.F]);
                case "value_floats":
                    return TensorData.CreateFloat(name, [attribute.Floats.Count], attribute.Floats.ToArray());
                case "value_int":
                    return TensorData.CreateInt64(name, [], [attribute.I]);
                case "value_ints":
                    return TensorData.CreateInt64(name, [attribute.Ints.Count], attribute.Ints.ToArray());
            }
        }

        return null;
    }

    /// <summary>Reads an int attribute, or <paramref name="fallback"/> when absent.</summary>
    public static long GetInt(NodeProto node, string name, long fallback)
    {
        ArgumentNullException.ThrowIfNull(node);
        AttributeProto? a = node.Attribute.FirstOrDefault(x => x.Name == name);
        return a is null ? fallback : a.I;
    }

    /// <summary>Reads a float attribute, or <paramref name="fallback"/> when absent.</summary>
    public static float GetFloat(NodeProto node, string name, float fallback)
    {
        ArgumentNullException.ThrowIfNull(node);
        AttributeProto? a = node.Attribute.FirstOrDefault(x => x.Name == name);
        return a is null ? fallback : a.F;
    }

    /// <summary>Creates a node in the given domain; reserves its output names.</summary>
    public NodeProto CreateNode(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = DefaultDomain)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        if (!IsDefaultDomain(domain))
        {
            node.Domain = domain;
        }

        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        _names.Add(name);
        foreach (string output in node.Output)
        {
            _names.Add(output);
        }

        return node;
    }

    /// <summary>Rebuilds the graph list and the name set (after edits made directly on the proto).</summary>
    public void Rescan()
    {
        var graphs = new List<GraphScope>();
        Visit(new GraphScope(this, Model.Graph, null, null, null), graphs);
        _graphs = graphs;
        _names.Clear();
        foreach (GraphScope scope in graphs)
        {
            CollectNames(scope.Graph);
        }
    }

    private void Visit(GraphScope scope, List<GraphScope> graphs)
    {
        graphs.Add(scope);
        foreach (NodeProto node in scope.Graph.Node)
        {
            foreach (AttributeProto attribute in node.Attribute)
            {
                if (attribute.G is not null)
                {
                    VisitChild(scope, node, attribute.Name, attribute.G, graphs);
                }

                for (int i = 0; i < attribute.Graphs.Count; i++)
                {
                    VisitChild(scope, node, $"{attribute.Name}[{i}]", attribute.Graphs[i], graphs);
                }
            }
        }
    }

    private void VisitChild(GraphScope parent, NodeProto node, string attributeName, GraphProto graph, List<GraphScope> graphs)
    {
        var child = new GraphScope(this, graph, parent, node, attributeName);
        parent.AddChild(child);
        Visit(child, graphs);
    }

    private void CollectNames(GraphProto graph)
    {
        if (graph.Name.Length > 0)
        {
            _names.Add(graph.Name);
        }

        foreach (TensorProto t in graph.Initializer)
        {
            _names.Add(t.Name);
        }

        foreach (ValueInfoProto v in graph.Input.Concat(graph.Output).Concat(graph.ValueInfo))
        {
            _names.Add(v.Name);
        }

        foreach (NodeProto node in graph.Node)
        {
            if (node.Name.Length > 0)
            {
                _names.Add(node.Name);
            }

            foreach (string n in node.Input.Concat(node.Output))
            {
                _names.Add(n);
            }
        }
    }

    private static void CollectUses(GraphScope scope, string name, List<GraphNode> uses)
    {
        foreach (NodeProto node in scope.Graph.Node)
        {
            if (node.Input.Contains(name))
            {
                uses.Add(new GraphNode(scope, node));
            }
        }

        foreach (GraphScope child in scope.Children)
        {
            if (!child.DefinesName(name))
            {
                CollectUses(child, name, uses);
            }
        }
    }

    private static bool IsOutputInScope(GraphScope scope, string name) =>
        scope.IsGraphOutput(name) || scope.Children.Any(c => !c.DefinesName(name) && IsOutputInScope(c, name));

    private void InsertNodes(GraphScope scope, int index, IReadOnlyList<NodeProto> nodes)
    {
        InsertAt(scope, index, nodes);
        if (nodes.Any(HasSubgraph))
        {
            Rescan();
        }
    }

    private void InsertAt(GraphScope scope, int index, IReadOnlyList<NodeProto> nodes)
    {
        for (int i = 0; i < nodes.Count; i++)
        {
            scope.Graph.Node.Insert(index + i, nodes[i]);
            if (nodes[i].Name.Length > 0)
            {
                _names.Add(nodes[i].Name);
            }

            foreach (string output in nodes[i].Output)
            {
                _names.Add(output);
            }
        }
    }

    private static int IndexOf(GraphScope scope, NodeProto node)
    {
        ArgumentNullException.ThrowIfNull(scope);
        int index = scope.Graph.Node.IndexOf(node);
        if (index < 0)
        {
            throw new ArgumentException($"Node '{node.Name}' ({node.OpType}) is not in graph '{scope.Path}'.", nameof(node));
        }

        return index;
    }

    private void EnsureOwned(GraphScope scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        if (scope.Model != this)
        {
            throw new ArgumentException($"Graph '{scope.Path}' belongs to another ModelGraph view.", nameof(scope));
        }
    }

    private static bool HasSubgraph(NodeProto node) => node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0);

    private static void RepeatedFieldReplace<T>(Google.Protobuf.Collections.RepeatedField<T> field, T old, T value)
        where T : IMessage<T>
    {
        int index = field.IndexOf(old);
        if (index < 0)
        {
            throw new ArgumentException("The constant is no longer in its graph.", nameof(old));
        }

        field[index] = value;
    }
}
