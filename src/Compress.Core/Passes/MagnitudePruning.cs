using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Unstructured magnitude pruning: weights of Conv, MatMul and Gemm nodes (input 1, wherever the constant
/// lives: initializers, Constant nodes, outer scopes of subgraphs) whose magnitude is smallest are set to 0.
/// Biases, normalisation parameters and embedding tables are never touched: only tensors read solely
/// as the weight input of the selected operators are. The tensors keep their shape, so the model runs
/// as before; the zeros pay off with compression (<c>pack: brotli</c>) and quantization.
/// </summary>
public static class MagnitudePruning
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "magnitude_pruning";

    /// <summary>Prunes <paramref name="model"/> in place and remembers the unpruned model for reconstruction.</summary>
    /// <returns>Per-layer sparsity in the notes, totals in the counts, skipped nodes with reasons.</returns>
    public static PassReport Run(ModelProto model, MagnitudePruningOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ReconstructionTeacher.Remember(model);
        var graph = new ModelGraph(model);
        var report = new PassReport(PassName);
        List<MagnitudePruningWeight> weights = Select(graph, options.OpTypes, options.NodesToExclude, report);
        List<float[]> values = weights.Select(w => w.Read()).ToList();
        var zeroBefore = values.Select(v => v.LongCount(x => x == 0)).ToList();
        float[]?[] multipliers = options.ActivationData is { } data
            ? MagnitudePruningActivations.Measure(model, weights, data, options.BatchSize)
            : new float[]?[weights.Count];
        if (options.ActivationData is not null)
        {
            int measured = multipliers.Count(m => m is not null);
            report.AddNote(string.Create(CultureInfo.InvariantCulture, $"importance |w| x input channel RMS on {options.ActivationData.SampleCount} samples for {measured} of {weights.Count} weights{(measured < weights.Count ? " (the others, inside subgraphs, by |w|)" : string.Empty)}"));
        }

        if (options.Pattern is { } pattern)
        {
            for (int i = 0; i < weights.Count; i++)
            {
                if (weights[i].Columns % pattern.M != 0)
                {
                    foreach (GraphNode node in weights[i].Nodes)
                    {
                        report.AddSkipped(Skipped(node, $"its {weights[i].Columns} inputs per output are not a multiple of {pattern.M} for the {pattern} pattern"));
                    }

                    values[i] = null!;
                    continue;
                }

                ApplyPattern(weights[i], values[i], multipliers[i], pattern);
            }
        }
        else if (options.Threshold is double threshold)
        {
            foreach (float[] v in values)
            {
                for (int j = 0; j < v.Length; j++)
                {
                    v[j] = Math.Abs(v[j]) <= threshold ? 0f : v[j];
                }
            }
        }
        else if (options.Scope == MagnitudePruningScope.Global)
        {
            ZeroSmallest([.. values], multipliers, options.Sparsity!.Value);
        }
        else
        {
            for (int i = 0; i < values.Count; i++)
            {
                ZeroSmallest([values[i]], [multipliers[i]], options.Sparsity!.Value);
            }
        }

        long total = 0, zeros = 0, zeroed = 0;
        for (int i = 0; i < weights.Count; i++)
        {
            if (values[i] is null)
            {
                continue;
            }

            weights[i].Write(values[i]);
            long z = values[i].LongCount(x => x == 0);
            total += values[i].Length;
            zeros += z;
            zeroed += z - zeroBefore[i];
            report.AddCount("layers_pruned");
            report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{weights[i].Label}: {z} of {values[i].Length} weights zero, sparsity {(double)z / values[i].Length:F4}"));
        }

        report.AddCount("parameters_considered", total);
        report.AddCount("parameters_zero", zeros);
        report.AddCount("parameters_zeroed", zeroed);
        report.AddNote(string.Create(CultureInfo.InvariantCulture, $"overall sparsity of the pruned layers {(total == 0 ? 0 : (double)zeros / total):F4} ({Criterion(options)})"));
        return report;
    }

    /// <summary>The distinct weights of the selected, non-excluded nodes in graph order; the others are reported as skipped.</summary>
    internal static List<MagnitudePruningWeight> Select(ModelGraph graph, IReadOnlyList<string> opTypes, IReadOnlyList<string> nodesToExclude, PassReport report)
    {
        var weights = new List<MagnitudePruningWeight>();
        var seen = new HashSet<(GraphScope, string)>();
        foreach (GraphNode node in graph.AllNodes())
        {
            NodeProto n = node.Node;
            if (!ModelGraph.IsDefaultDomain(n.Domain) || !opTypes.Contains(n.OpType))
            {
                continue;
            }

            string label = MagnitudePruningWeight.NodeLabel(n);
            string? glob = nodesToExclude.FirstOrDefault(g => NodeNameGlob.IsMatch(g, label));
            if (glob is not null)
            {
                report.AddSkipped(Skipped(node, $"excluded by nodes_to_exclude '{glob}'"));
                continue;
            }

            MagnitudePruningWeight? weight = MagnitudePruningWeight.Resolve(graph, node, out string? reason);
            if (weight is null)
            {
                report.AddSkipped(Skipped(node, reason!));
                continue;
            }

            if (weight.Nodes.Any(r => nodesToExclude.Any(g => NodeNameGlob.IsMatch(g, MagnitudePruningWeight.NodeLabel(r.Node)))))
            {
                report.AddSkipped(Skipped(node, $"its weight '{weight.Constant.Name}' is shared with an excluded node"));
                continue;
            }

            if (seen.Add((weight.Constant.Owner, weight.Constant.Name)))
            {
                weights.Add(weight);
            }
        }

        return weights;
    }

    internal static SkippedNode Skipped(GraphNode node, string reason) =>
        new(MagnitudePruningWeight.NodeLabel(node.Node), node.Node.OpType, node.Graph.Path, reason);

    /// <summary>
    /// Zeroes exactly round(sparsity × total) of the smallest scores over all arrays together (ties: earlier first);
    /// a score is |w|, times the element's multiplier where an array has them.
    /// </summary>
    private static void ZeroSmallest(float[][] arrays, float[]?[] multipliers, double sparsity)
    {
        long total = arrays.Sum(a => (long)a.Length);
        long k = (long)Math.Round(sparsity * total, MidpointRounding.AwayFromZero);
        if (k == 0)
        {
            return;
        }

        var magnitudes = new float[total];
        var positions = new long[total];
        long p = 0;
        for (int a = 0; a < arrays.Length; a++)
        {
            for (int j = 0; j < arrays[a].Length; j++, p++)
            {
                magnitudes[p] = Math.Abs(arrays[a][j]) * (multipliers[a]?[j] ?? 1f);
                positions[p] = p;
            }
        }

        // Sort by (magnitude, position): the key array alone is not a stable order for equal magnitudes.
        Array.Sort(positions, (x, y) =>
        {
            int c = magnitudes[x].CompareTo(magnitudes[y]);
            return c != 0 ? c : x.CompareTo(y);
        });
        var offsets = new long[arrays.Length + 1];
        for (int a = 0; a < arrays.Length; a++)
        {
            offsets[a + 1] = offsets[a] + arrays[a].Length;
        }

        for (long i = 0; i < k; i++)
        {
            long flat = positions[i];
            int a = Array.BinarySearch(offsets, flat);
            a = a >= 0 ? a : ~a - 1;
            while (offsets[a + 1] <= flat)
            {
                a++;
            }

            arrays[a][flat - offsets[a]] = 0f;
        }
    }

    /// <summary>Keeps the N largest scores (|w|, times the multiplier when given) of every M consecutive inputs of each output row.</summary>
    private static void ApplyPattern(MagnitudePruningWeight weight, float[] values, float[]? multipliers, MagnitudePruningPattern pattern)
    {
        var group = new int[pattern.M];
        for (int row = 0; row < weight.Rows; row++)
        {
            for (int start = 0; start < weight.Columns; start += pattern.M)
            {
                for (int j = 0; j < pattern.M; j++)
                {
                    group[j] = weight.Index(row, start + j);
                }

                // Largest magnitude first, earlier column first among equals.
                int[] order = [.. group.Select((index, j) => (index, j)).OrderByDescending(t => Math.Abs(values[t.index]) * (multipliers?[t.index] ?? 1f)).ThenBy(t => t.j).Select(t => t.index)];
                for (int j = pattern.N; j < pattern.M; j++)
                {
                    values[order[j]] = 0f;
                }
            }
        }
    }

    private static string Criterion(MagnitudePruningOptions options) =>
        options.Pattern is { } p ? $"pattern {p}"
        : options.Threshold is double t ? string.Create(CultureInfo.InvariantCulture, $"threshold {t}")
        : string.Create(CultureInfo.InvariantCulture, $"target sparsity {options.Sparsity} {(options.Scope == MagnitudePruningScope.Global ? "global" : "per layer")}");
}
