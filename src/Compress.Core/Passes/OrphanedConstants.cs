using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Constants (initializers and Constant nodes) that no node, subgraph or graph output reads. A pass that
/// rewires nodes leaves behind what the nodes it removed used to read: a folded Clip's bounds, a Mul folded
/// into a scale, the scale of a Q/DQ pair that a fusion dropped. ONNX Runtime warns about every unread
/// initializer when it creates a session (253 lines for ocr-det in int8), so a pass removes what it orphaned.
/// What was unread before the pass ran is the user's and stays (<see cref="Find"/> before, <see cref="Remove"/> after).
/// </summary>
internal static class OrphanedConstants
{
    /// <summary>Names of the constants in <paramref name="graph"/> that nothing reads.</summary>
    public static HashSet<string> Find(ModelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var unread = new HashSet<string>(StringComparer.Ordinal);
        foreach (GraphScope scope in graph.Graphs)
        {
            HashSet<string> reads = ReadsIn(scope.Graph);
            unread.UnionWith(UnreadConstants(scope.Graph, reads).Select(c => c.Name));
        }

        return unread;
    }

    /// <summary>Removes the unread constants whose names are not in <paramref name="keep"/>; returns how many.</summary>
    public static int Remove(ModelGraph graph, IReadOnlySet<string> keep)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(keep);
        int removed = 0;
        foreach (GraphScope scope in graph.Graphs)
        {
            GraphProto g = scope.Graph;
            foreach ((string name, TensorProto? initializer, NodeProto? node) in UnreadConstants(g, ReadsIn(g)).Where(c => !keep.Contains(c.Name)).ToList())
            {
                if (initializer is not null)
                {
                    g.Initializer.Remove(initializer);
                }
                else
                {
                    g.Node.Remove(node!);
                }

                ValueInfoProto? info = g.ValueInfo.FirstOrDefault(v => v.Name == name);
                if (info is not null)
                {
                    g.ValueInfo.Remove(info);
                }

                removed++;
            }
        }

        if (removed > 0)
        {
            graph.Rescan();
        }

        return removed;
    }

    /// <summary>Every name a graph's own nodes, its subgraphs (their outer-scope reads) and its outputs read.</summary>
    private static HashSet<string> ReadsIn(GraphProto graph)
    {
        var reads = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (NodeProto node in graph.Node)
        {
            reads.UnionWith(GraphCleanupScopes.ReadsOf(node));
        }

        return reads;
    }

    private static IEnumerable<(string Name, TensorProto? Initializer, NodeProto? Node)> UnreadConstants(GraphProto graph, HashSet<string> reads)
    {
        var inputs = new HashSet<string>(graph.Input.Select(i => i.Name), StringComparer.Ordinal);
        foreach (TensorProto initializer in graph.Initializer)
        {
            // An initializer that is also a graph input is an overridable default: part of the model's interface.
            if (!reads.Contains(initializer.Name) && !inputs.Contains(initializer.Name))
            {
                yield return (initializer.Name, initializer, null);
            }
        }

        foreach (NodeProto node in graph.Node)
        {
            if (node.OpType == "Constant" && ModelGraph.IsDefaultDomain(node.Domain) && node.Output.Count == 1 && !reads.Contains(node.Output[0]))
            {
                yield return (node.Output[0], null, node);
            }
        }
    }
}
