using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Name bookkeeping across nested graphs for <see cref="GraphCleanup"/>: which outer names a
/// subgraph reads (its free names) and renaming the reads of a name in a graph and in the
/// subgraphs that see it (ONNX outer-scope rule: a subgraph sees every name of the enclosing
/// graphs that it does not define itself).
/// </summary>
internal static class GraphCleanupScopes
{
    /// <summary>Names a graph defines itself: inputs, initializers (dense and sparse) and node outputs.</summary>
    public static HashSet<string> DefinedNames(GraphProto graph)
    {
        var defined = new HashSet<string>(StringComparer.Ordinal);
        defined.UnionWith(graph.Input.Select(i => i.Name));
        defined.UnionWith(graph.Initializer.Select(t => t.Name));
        defined.UnionWith(graph.SparseInitializer.Where(s => s.Values is not null).Select(s => s.Values.Name));
        foreach (NodeProto node in graph.Node)
        {
            defined.UnionWith(node.Output.Where(o => o.Length > 0));
        }

        return defined;
    }

    /// <summary>Names <paramref name="graph"/> (or a subgraph inside it) reads from enclosing graphs.</summary>
    public static HashSet<string> FreeNames(GraphProto graph)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        used.UnionWith(graph.Output.Select(o => o.Name));
        foreach (NodeProto node in graph.Node)
        {
            used.UnionWith(ReadsOf(node));
        }

        used.ExceptWith(DefinedNames(graph));
        return used;
    }

    /// <summary>Names a node reads: its inputs and the free names of its subgraphs.</summary>
    public static IEnumerable<string> ReadsOf(NodeProto node)
    {
        foreach (string input in node.Input)
        {
            if (input.Length > 0)
            {
                yield return input;
            }
        }

        foreach (GraphProto subgraph in Subgraphs(node))
        {
            foreach (string name in FreeNames(subgraph))
            {
                yield return name;
            }
        }
    }

    /// <summary>The graphs held by a node's attributes.</summary>
    public static IEnumerable<GraphProto> Subgraphs(NodeProto node)
    {
        foreach (AttributeProto attribute in node.Attribute)
        {
            if (attribute.G is not null)
            {
                yield return attribute.G;
            }

            foreach (GraphProto g in attribute.Graphs)
            {
                yield return g;
            }
        }
    }

    /// <summary>
    /// True when renaming reads of <paramref name="from"/> to <paramref name="to"/> in the
    /// subgraphs of <paramref name="graph"/> would be captured by a subgraph that defines
    /// <paramref name="to"/> itself (and reads <paramref name="from"/> from outside).
    /// </summary>
    public static bool RenameWouldBeShadowed(GraphProto graph, string from, string to)
    {
        foreach (GraphProto subgraph in graph.Node.SelectMany(Subgraphs))
        {
            HashSet<string> defined = DefinedNames(subgraph);
            if (defined.Contains(from))
            {
                continue;
            }

            if (FreeNames(subgraph).Contains(from) && (defined.Contains(to) || RenameWouldBeShadowed(subgraph, from, to)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Renames every read of <paramref name="from"/> to <paramref name="to"/> in the nodes of
    /// <paramref name="graph"/> and in subgraphs that do not define <paramref name="from"/>
    /// (including subgraph outputs that pass the outer value through).
    /// </summary>
    public static void RenameReads(GraphProto graph, string from, string to)
    {
        foreach (NodeProto node in graph.Node)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                if (node.Input[i] == from)
                {
                    node.Input[i] = to;
                }
            }

            foreach (GraphProto subgraph in Subgraphs(node))
            {
                if (DefinedNames(subgraph).Contains(from))
                {
                    continue;
                }

                foreach (ValueInfoProto output in subgraph.Output.Where(o => o.Name == from))
                {
                    output.Name = to;
                }

                RenameReads(subgraph, from, to);
            }
        }
    }

    /// <summary>Removes value_info entries of names no node, input or output of the graph mentions any more.</summary>
    public static int PruneValueInfo(GraphProto graph)
    {
        var mentioned = new HashSet<string>(StringComparer.Ordinal);
        mentioned.UnionWith(graph.Input.Select(i => i.Name));
        mentioned.UnionWith(graph.Output.Select(o => o.Name));
        foreach (NodeProto node in graph.Node)
        {
            mentioned.UnionWith(node.Input);
            mentioned.UnionWith(node.Output);
        }

        List<ValueInfoProto> stale = graph.ValueInfo.Where(v => !mentioned.Contains(v.Name)).ToList();
        foreach (ValueInfoProto v in stale)
        {
            graph.ValueInfo.Remove(v);
        }

        return stale.Count;
    }
}
