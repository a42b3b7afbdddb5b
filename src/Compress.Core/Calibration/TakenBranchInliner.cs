using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Calibration;

/// <summary>
/// Makes tensors inside <c>If</c> branches reachable for calibration. ONNX Runtime can only return
/// main-graph tensors, so on the calibration copy every main-graph <c>If</c> whose condition took one
/// value on all calibration batches is replaced by the nodes of the branch that ran (its outputs
/// bound to the If's outputs through <c>Identity</c>), round after round, until no such If is left.
/// Tensor names are kept, so ranges found for them apply to the subgraph nodes of the real model.
/// A branch that never ran is dropped from the copy and its tensors are reported as such.
/// </summary>
internal static class TakenBranchInliner
{
    /// <summary>Nested Ifs are inlined one level per round; real models nest two or three deep.</summary>
    private const int MaxRounds = 8;

    /// <summary>Inlines taken branches of <paramref name="copy"/> in place and returns the tensors of branches that never ran.</summary>
    public static List<UncalibratedTensor> Inline(ModelProto copy, CalibrationDataSet data, CalibrationOptions options, Func<ModelProto, OrtModelSession> createSession)
    {
        var neverRan = new List<UncalibratedTensor>();
        for (int round = 0; round < MaxRounds; round++)
        {
            List<NodeProto> ifs = [.. copy.Graph.Node.Where(IsIf)];
            if (ifs.Count == 0)
            {
                break;
            }

            var fedInputs = new HashSet<string>(data.InputNames, StringComparer.Ordinal);
            List<BranchWatch> watches = [.. ifs.Select(n => new BranchWatch(n, n.Input[0], fedInputs.Contains(n.Input[0])))];
            ObserveConditions(copy, watches, data, options, createSession);
            int inlined = 0;
            foreach (BranchWatch watch in watches)
            {
                NodeProto node = watch.Node;
                bool seenTrue = watch.SeenTrue;
                if (seenTrue == watch.SeenFalse)
                {
                    continue; // both branches ran (or no batch at all): neither can stand for the If.
                }

                string taken = seenTrue ? "then_branch" : "else_branch";
                string dropped = seenTrue ? "else_branch" : "then_branch";
                GraphProto branch = node.Attribute.First(a => a.Name == taken).G;
                if (TryInline(copy.Graph, node, branch))
                {
                    GraphProto other = node.Attribute.First(a => a.Name == dropped).G;
                    neverRan.AddRange(TensorsOf(other).Select(name => new UncalibratedTensor(
                        name,
                        UncalibratedReason.BranchNeverRan,
                        $"in the {dropped} of If '{Label(node)}', which never ran on the calibration data (condition '{node.Input[0]}' was always {(seenTrue ? "true" : "false")}).")));
                    inlined++;
                }
            }

            if (inlined == 0)
            {
                break;
            }
        }

        return neverRan;
    }

    private static bool IsIf(NodeProto node) => node.OpType == "If" && Onnx.ModelGraph.IsDefaultDomain(node.Domain) && node.Input.Count == 1;

    /// <summary>Runs the data once with every If condition exposed as an output and lets each watch see the values it took.</summary>
    private static void ObserveConditions(
        ModelProto copy, List<BranchWatch> watches, CalibrationDataSet data, CalibrationOptions options, Func<ModelProto, OrtModelSession> createSession)
    {
        List<string> conditions = [.. watches.Where(w => !w.ConditionIsGraphInput).Select(w => w.Condition).Distinct(StringComparer.Ordinal)];
        ModelProto probe = OrtModelSession.WithOutputs(copy, conditions);

        using OrtModelSession? session = conditions.Count > 0 ? createSession(probe) : null;
        using var runOptions = new RunOptions();
        foreach (CalibrationBatch batch in data.ReadBatches(options.BatchSize))
        {
            using (batch)
            {
                foreach (BranchWatch watch in watches.Where(w => w.ConditionIsGraphInput))
                {
                    watch.Observe(batch[watch.Condition].GetTensorDataAsSpan<bool>());
                }

                if (session is null)
                {
                    continue;
                }

                IDisposableReadOnlyCollection<OrtValue> results;
                try
                {
                    results = session.Session.Run(runOptions, batch.InputNames, batch.Values, conditions);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new CompressException(DiagnosticCodes.PassFailed, $"Calibration: ONNX Runtime failed while reading the conditions of If nodes: {e.Message}", inner: e);
                }

                using (results)
                {
                    for (int i = 0; i < conditions.Count; i++)
                    {
                        foreach (BranchWatch watch in watches.Where(w => !w.ConditionIsGraphInput && w.Condition == conditions[i]))
                        {
                            watch.Observe(results[i].GetTensorDataAsSpan<bool>());
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Splices <paramref name="branch"/> into <paramref name="main"/> in place of <paramref name="node"/>.
    /// Refused (false) when a name the branch defines is already defined in the main graph, which
    /// ONNX allows (subgraph names shadow outer ones) but a flat graph cannot hold.
    /// </summary>
    private static bool TryInline(GraphProto main, NodeProto node, GraphProto branch)
    {
        var mainNames = new HashSet<string>(StringComparer.Ordinal);
        mainNames.UnionWith(main.Input.Select(i => i.Name));
        mainNames.UnionWith(main.Initializer.Select(i => i.Name));
        mainNames.UnionWith(main.Node.Where(n => n != node).SelectMany(n => n.Output));
        List<string> defined = [.. branch.Initializer.Select(i => i.Name), .. branch.Node.SelectMany(n => n.Output).Where(o => o.Length > 0)];
        if (defined.Any(mainNames.Contains) || branch.Output.Count != node.Output.Count || branch.SparseInitializer.Count > 0)
        {
            return false;
        }

        var replacement = new List<NodeProto>(branch.Node.Select(n => n.Clone()));
        for (int i = 0; i < node.Output.Count; i++)
        {
            if (node.Output[i].Length > 0)
            {
                replacement.Add(new NodeProto
                {
                    OpType = "Identity",
                    Name = $"{Label(node)}/inlined_output_{i}",
                    Input = { branch.Output[i].Name },
                    Output = { node.Output[i] },
                });
            }
        }

        main.Initializer.AddRange(branch.Initializer.Select(t => t.Clone()));
        int index = main.Node.IndexOf(node);
        main.Node.RemoveAt(index);
        for (int i = 0; i < replacement.Count; i++)
        {
            main.Node.Insert(index + i, replacement[i]);
        }

        return true;
    }

    /// <summary>Names of the tensors produced in <paramref name="graph"/> and in the graphs nested in it.</summary>
    private static IEnumerable<string> TensorsOf(GraphProto graph) =>
        graph.Node.SelectMany(n => n.Output.Where(o => o.Length > 0 && n.OpType != "Constant")
            .Concat(n.Attribute.Where(a => a.G is not null).SelectMany(a => TensorsOf(a.G)))
            .Concat(n.Attribute.SelectMany(a => a.Graphs).SelectMany(TensorsOf)));

    private static string Label(NodeProto node) => node.Name.Length > 0 ? node.Name : $"If producing '{node.Output.FirstOrDefault()}'";
}
