using Compress.Core.Diagnostics;
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
    public static List<UncalibratedTensor> Inline(ModelProto copy, CalibrationDataSet data, CalibrationOptions options, Func<ModelProto, InferenceSession> createSession)
    {
        var neverRan = new List<UncalibratedTensor>();
        for (int round = 0; round < MaxRounds; round++)
        {
            List<NodeProto> ifs = [.. copy.Graph.Node.Where(IsIf)];
            if (ifs.Count == 0)
            {
                break;
            }

            Dictionary<NodeProto, (bool SeenTrue, bool SeenFalse)> seen = ObserveConditions(copy, ifs, data, options, createSession);
            int inlined = 0;
            foreach (NodeProto node in ifs)
            {
                (bool seenTrue, bool seenFalse) = seen[node];
                if (seenTrue == seenFalse)
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

    /// <summary>Runs the data once with every If condition exposed as an output and records the values each took.</summary>
    private static Dictionary<NodeProto, (bool, bool)> ObserveConditions(
        ModelProto copy, List<NodeProto> ifs, CalibrationDataSet data, CalibrationOptions options, Func<ModelProto, InferenceSession> createSession)
    {
        var seen = ifs.ToDictionary(n => n, _ => (false, false));
        var fedInputs = new HashSet<string>(data.InputNames, StringComparer.Ordinal);
        ModelProto probe = copy.Clone();
        var outputs = new HashSet<string>(probe.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        List<string> conditions = [.. ifs.Select(n => n.Input[0]).Where(c => !fedInputs.Contains(c)).Distinct(StringComparer.Ordinal)];
        foreach (string condition in conditions.Where(outputs.Add))
        {
            probe.Graph.Output.Add(new ValueInfoProto { Name = condition });
        }

        using InferenceSession session = createSession(probe);
        using var runOptions = new RunOptions();
        var values = new Dictionary<string, (bool True, bool False)>(StringComparer.Ordinal);
        foreach (CalibrationBatch batch in data.ReadBatches(options.BatchSize))
        {
            using (batch)
            {
                foreach (string name in ifs.Select(n => n.Input[0]).Where(fedInputs.Contains))
                {
                    Observe(values, name, batch[name].GetTensorDataAsSpan<bool>());
                }

                if (conditions.Count == 0)
                {
                    continue;
                }

                IDisposableReadOnlyCollection<OrtValue> results;
                try
                {
                    results = session.Run(runOptions, batch.InputNames, batch.Values, conditions);
                }
                catch (OnnxRuntimeException e)
                {
                    throw new CompressException(DiagnosticCodes.PassFailed, $"Calibration: ONNX Runtime failed while reading the conditions of If nodes: {e.Message}", inner: e);
                }

                using (results)
                {
                    for (int i = 0; i < conditions.Count; i++)
                    {
                        Observe(values, conditions[i], results[i].GetTensorDataAsSpan<bool>());
                    }
                }
            }
        }

        foreach (NodeProto node in ifs)
        {
            seen[node] = values.TryGetValue(node.Input[0], out (bool True, bool False) v) ? v : (false, false);
        }

        return seen;
    }

    private static void Observe(Dictionary<string, (bool True, bool False)> values, string name, ReadOnlySpan<bool> data)
    {
        (bool t, bool f) = values.GetValueOrDefault(name);
        foreach (bool b in data)
        {
            t |= b;
            f |= !b;
        }

        values[name] = (t, f);
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
