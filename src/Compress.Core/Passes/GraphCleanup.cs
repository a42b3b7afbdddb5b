using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Graph clean-up before quantization (what the "Pruning" issue calls graph clean-up): removes
/// Identity and inference Dropout nodes, folds per-channel bias Adds and BatchNormalization into
/// the preceding Conv/ConvTranspose, folds small constant subexpressions, fuses spelled-out hard-swishes,
/// removes nodes nobody reads and unused
/// initializers. Every part walks subgraphs and respects outer-scope reads; graph output names
/// never change. Parts repeat until nothing changes (one part can enable another). Same input
/// gives byte-identical output.
/// </summary>
public static class GraphCleanup
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "graph_cleanup";

    /// <summary>Count names in <see cref="PassReport.Counts"/>.</summary>
    public const string NodesBefore = "nodes_before", NodesAfter = "nodes_after", IdentityRemoved = "identity_removed",
        DropoutRemoved = "dropout_removed", BiasAddFolded = "bias_add_folded", BatchNormFolded = "batch_norm_folded", ConstantsFolded = "constants_folded", HardSwishFused = "hard_swish_fused",
        DeadNodesRemoved = "dead_nodes_removed", InitializersRemoved = "initializers_removed", DivisionsToMultiplications = "divisions_to_multiplications";

    private const int MaxRounds = 16;

    /// <summary>Cleans <paramref name="model"/> in place.</summary>
    /// <returns>Counts per transformation (<see cref="PassReport.Counts"/>), and notes.</returns>
    public static PassReport Run(ModelProto model, GraphCleanupOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var graph = new ModelGraph(model);
        var report = new PassReport(PassName);
        long opset = graph.OpsetVersion(ModelGraph.DefaultDomain);
        report.AddCount(NodesBefore, CountNodes(graph));
        foreach (string name in new[] { IdentityRemoved, DropoutRemoved, BiasAddFolded, BatchNormFolded, ConstantsFolded, HardSwishFused, DivisionsToMultiplications, DeadNodesRemoved, InitializersRemoved })
        {
            report.AddCount(name, 0);
        }

        bool changed = true;
        for (int round = 0; changed && round < MaxRounds; round++)
        {
            changed = false;
            if (options.RemoveDropout || options.RemoveIdentity)
            {
                changed |= BypassNodes(graph, options, report);
            }

            if (options.FoldConstants)
            {
                changed |= FoldConstants(graph, opset, options.MaxFoldedElements, report);
            }

            if (options.FoldConvBiasAdd)
            {
                changed |= FoldInto(graph, "Add", GraphCleanupBiasAdd.TryFold, BiasAddFolded, report);
            }

            if (options.FoldBatchNormalization)
            {
                changed |= FoldInto(graph, "BatchNormalization", GraphCleanupBatchNorm.TryFold, BatchNormFolded, report);
            }

            // Before the Div rewrite, though both spellings of the scale are matched.
            if (options.FuseHardSwish)
            {
                changed |= FoldInto(graph, "Clip", GraphCleanupHardSwish.TryRewrite, HardSwishFused, report);
            }

            if (options.DivisionByConstantToMultiplication)
            {
                changed |= FoldInto(graph, "Div", GraphCleanupDivision.TryRewrite, DivisionsToMultiplications, report);
            }

            if (options.RemoveDeadNodes || options.RemoveUnusedInitializers)
            {
                (int nodes, int initializers) = Sweep(model.Graph, options);
                report.AddCount(DeadNodesRemoved, nodes);
                report.AddCount(InitializersRemoved, initializers);
                changed |= nodes + initializers > 0;
                graph.Rescan();
            }
        }

        foreach (GraphScope scope in graph.Graphs)
        {
            GraphCleanupScopes.PruneValueInfo(scope.Graph);
        }

        report.AddCount(NodesAfter, CountNodes(graph));
        return report;
    }

    private static long CountNodes(ModelGraph graph) => graph.AllNodes().LongCount();

    /// <summary>Removes Identity and inference Dropout nodes by wiring their input to their readers.</summary>
    private static bool BypassNodes(ModelGraph graph, GraphCleanupOptions options, PassReport report)
    {
        bool changed = false;
        foreach (GraphNode gn in graph.AllNodes().ToList())
        {
            (GraphScope scope, NodeProto node) = gn;
            if (!ModelGraph.IsDefaultDomain(node.Domain) || node.Input.Count == 0 || node.Output.Count == 0)
            {
                continue;
            }

            bool isIdentity = options.RemoveIdentity && node.OpType == "Identity";
            bool isDropout = options.RemoveDropout && node.OpType == "Dropout" && IsInferenceDropout(graph, scope, node);
            if ((isIdentity || isDropout) && TryBypass(graph, scope, node, node.Input[0], node.Output[0]))
            {
                report.AddCount(isIdentity ? IdentityRemoved : DropoutRemoved);
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>
    /// Dropout is the identity at inference unless opset ≥ 12's training_mode input says otherwise
    /// (a computed training_mode keeps the node); its mask output must be unread.
    /// </summary>
    private static bool IsInferenceDropout(ModelGraph graph, GraphScope scope, NodeProto node)
    {
        if (node.Output.Skip(1).Any(o => o.Length > 0 && graph.IsUsed(scope, o)))
        {
            return false;
        }

        if (node.Input.Count < 3 || node.Input[2].Length == 0)
        {
            return true;
        }

        TensorProto? trainingMode = scope.FindConstant(node.Input[2])?.Value;
        return trainingMode is not null && !TensorData.IsExternal(trainingMode) && TensorData.ReadInt32s(trainingMode).All(v => v == 0);
    }

    /// <summary>
    /// Makes the readers of <paramref name="y"/> read <paramref name="x"/> and removes the node.
    /// When <paramref name="y"/> is a graph output, the producer of <paramref name="x"/> is renamed
    /// to produce <paramref name="y"/> instead, so the output keeps its name.
    /// </summary>
    private static bool TryBypass(ModelGraph graph, GraphScope scope, NodeProto node, string x, string y)
    {
        GraphProto g = scope.Graph;
        if (x.Length == 0 || y.Length == 0 || x == y)
        {
            return false;
        }

        if (!scope.IsGraphOutput(y))
        {
            if (GraphCleanupScopes.RenameWouldBeShadowed(g, y, x))
            {
                return false;
            }

            graph.RemoveNode(scope, node);
            GraphCleanupScopes.RenameReads(g, y, x);
            return true;
        }

        NodeProto? producer = scope.Producer(x);
        if (producer is null || producer == node || scope.IsGraphOutput(x) || scope.IsGraphInput(x)
            || GraphCleanupScopes.RenameWouldBeShadowed(g, x, y))
        {
            return false;
        }

        graph.RemoveNode(scope, node);
        producer.Output[producer.Output.IndexOf(x)] = y;
        GraphCleanupScopes.RenameReads(g, x, y);
        return true;
    }

    private static bool FoldConstants(ModelGraph graph, long opset, long maxElements, PassReport report)
    {
        bool changed = false;
        foreach (GraphNode gn in graph.AllNodes().ToList())
        {
            (GraphScope scope, NodeProto node) = gn;
            if (node.OpType == "Constant" || !GraphCleanupConstantFolding.FoldableOps.Contains(node.OpType))
            {
                continue;
            }

            TensorProto? value = GraphCleanupConstantFolding.TryEvaluate(scope, node, opset, maxElements);
            if (value is null)
            {
                continue;
            }

            // A Constant node in place of the folded one: works for every IR version and for graph outputs.
            NodeProto constant = graph.CreateNode("Constant", graph.UniqueName((node.Name.Length > 0 ? node.Name : node.Output[0]) + "_folded"), [], [node.Output[0]]);
            constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
            graph.ReplaceNode(scope, node, [constant]);
            report.AddCount(ConstantsFolded);
            changed = true;
        }

        return changed;
    }

    /// <summary>Applies a folding rewrite to every default-domain node of <paramref name="opType"/>, counting successes.</summary>
    private static bool FoldInto(ModelGraph graph, string opType, Func<ModelGraph, GraphScope, NodeProto, bool> tryFold, string counter, PassReport report)
    {
        bool changed = false;
        foreach (GraphNode gn in graph.AllNodes().ToList())
        {
            if (gn.Node.OpType == opType && ModelGraph.IsDefaultDomain(gn.Node.Domain) && tryFold(graph, gn.Graph, gn.Node))
            {
                report.AddCount(counter);
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>
    /// Removes, bottom-up, nodes none of whose outputs is read (by a later node, by a subgraph as an
    /// outer-scope name, or as a graph output) and initializers nobody reads. Subgraphs are swept
    /// first, so that what they stop reading no longer keeps outer nodes alive.
    /// </summary>
    private static (int Nodes, int Initializers) Sweep(GraphProto graph, GraphCleanupOptions options)
    {
        int nodes = 0, initializers = 0;
        foreach (GraphProto subgraph in graph.Node.SelectMany(GraphCleanupScopes.Subgraphs))
        {
            (int n, int i) = Sweep(subgraph, options);
            nodes += n;
            initializers += i;
        }

        var live = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        for (int index = graph.Node.Count - 1; index >= 0; index--)
        {
            NodeProto node = graph.Node[index];
            bool isLive = node.Output.Count == 0 || node.Output.Any(o => o.Length > 0 && live.Contains(o));
            if (!isLive && options.RemoveDeadNodes)
            {
                graph.Node.RemoveAt(index);
                nodes++;
                continue;
            }

            live.UnionWith(GraphCleanupScopes.ReadsOf(node));
        }

        if (options.RemoveUnusedInitializers)
        {
            var inputs = new HashSet<string>(graph.Input.Select(i => i.Name), StringComparer.Ordinal);
            List<TensorProto> unused = graph.Initializer.Where(t => !live.Contains(t.Name) && !inputs.Contains(t.Name)).ToList();
            foreach (TensorProto t in unused)
            {
                graph.Initializer.Remove(t);
            }

            initializers += unused.Count;
        }

        return (nodes, initializers);
    }
}
