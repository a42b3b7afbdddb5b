using System.Globalization;
using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Refits pruned layers with the original model as teacher: for each Gemm, MatMul or Conv (1-D or 2-D; group 1, or
/// depthwise: see <see cref="ReconstructionDepthwise"/>) whose weight
/// differs from the original, the remaining weights (and bias) are solved by least squares so the layer,
/// fed with the inputs it now gets in the pruned model, reproduces the original layer's outputs on
/// calibration data. Each output neuron / channel is solved on its own support, so unstructured sparsity
/// (and N:M patterns) stay exactly as they are; structured pruning keeps its shapes.
/// </summary>
/// <remarks>
/// Per output: (A_SᵀA_S + λI) w = A_Sᵀy + λw₀, A = layer inputs with a column of ones for the bias, S the
/// support, w₀ the pruned weights; λ = damping × mean diagonal of AᵀA. Pulling towards w₀ instead of 0
/// keeps directions the calibration data does not excite, which matters when the layer has more inputs
/// than there are samples. Conv rows are im2col patches at sampled output positions (at least
/// <see cref="ReconstructionOptions.MinimumConvRows"/> per layer when the calibration set is small). Layers are refitted
/// in graph order and each sees the inputs produced by the already refitted layers before it. The
/// statistics are accumulated batch by batch, so memory is O(inputs²) whatever the number of samples. Layers inside
/// If branches that ran on the data are refitted too (<see cref="ReconstructionBranches"/>).
/// </remarks>
public static class Reconstruction
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "reconstruction";

    /// <summary>Refits the pruned layers of <paramref name="model"/> in place.</summary>
    public static PassReport Run(ModelProto model, ReconstructionTeacher teacher, CalibrationDataSet data, ReconstructionOptions options) =>
        Reconstruct(model, teacher, data, options).Report;

    /// <summary>Refits the pruned layers of <paramref name="model"/> in place and returns the per-layer errors.</summary>
    /// <param name="model">The pruned model.</param>
    /// <param name="teacher">The original model (with the kept outputs of structurally pruned layers).</param>
    /// <param name="data">Calibration data opened for the model.</param>
    /// <param name="options">Settings.</param>
    public static ReconstructionResult Reconstruct(ModelProto model, ReconstructionTeacher teacher, CalibrationDataSet data, ReconstructionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ReconstructionBranches flat = ReconstructionBranches.Flatten(model, teacher.Model, data, options);
        ModelGraph graph = flat.Student;
        var teacherGraph = new ModelGraph(flat.Teacher);
        var report = new PassReport(PassName);
        var layers = new List<ReconstructionLayer>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        foreach (GraphNode node in graph.AllNodes().ToList())
        {
            NodeProto n = node.Node;
            if (!ModelGraph.IsDefaultDomain(n.Domain) || n.OpType is not ("Gemm" or "MatMul" or "Conv"))
            {
                continue;
            }

            string label = MagnitudePruningWeight.NodeLabel(n);
            MagnitudePruningWeight? weight = MagnitudePruningWeight.Resolve(graph, node, out _);
            (GraphNode? original, MagnitudePruningWeight? originalWeight) = Original(teacherGraph, n);
            if (weight is null || originalWeight is null || Same(weight, originalWeight))
            {
                continue;
            }

            visited.Add(label);
            string? glob = options.NodesToExclude.FirstOrDefault(g => NodeNameGlob.IsMatch(g, label));
            string? reason = glob is not null ? $"excluded by nodes_to_exclude '{glob}'" : Unsupported(graph, node, weight, original!.Value, originalWeight, teacher);
            (GraphNode Node, MagnitudePruningWeight? Weight, ConstantTensor? Bias) real = (node, null, null);
            if (flat.IsCopy)
            {
                // Reported (and written back) at the real model's node, whose graph path names the If branch.
                string? writeBack = flat.Counterpart(n, Bias(graph, node, weight.Rows) is not null, out real);
                real.Node = real.Node.Node is null ? node : real.Node;
                reason ??= writeBack;
            }

            if (reason is not null)
            {
                report.AddSkipped(MagnitudePruning.Skipped(real.Node, reason));
                continue;
            }

            ReconstructionLayer layer = Refit(graph, teacher, flat.Teacher, data, options, node, weight, original!.Value, originalWeight);
            if (flat.IsCopy)
            {
                flat.WriteBack(node, real.Weight!, real.Bias);
            }

            layers.Add(layer);
            report.AddCount("layers_reconstructed");
            report.AddCount("outputs_refitted", layer.Outputs);
            report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{label} ({n.OpType}): relative output error {layer.ErrorBefore:G4} -> {layer.ErrorAfter:G4} on {layer.Rows} rows"));
        }

        if (flat.IsCopy)
        {
            ReportBranchesThatNeverRan(flat, teacher, visited, report);
        }

        report.AddNote($"teacher: the model before pruning; {data.SampleCount} calibration samples");
        return new ReconstructionResult(report, layers);
    }

    /// <summary>Pruned layers of If branches that were not inlined (the branch never ran on the data): reported, not refitted.</summary>
    private static void ReportBranchesThatNeverRan(ReconstructionBranches flat, ReconstructionTeacher teacher, HashSet<string> visited, PassReport report)
    {
        var teacherGraph = new ModelGraph(teacher.Model);
        foreach (GraphNode node in flat.Real.AllNodes().Where(g => g.Graph != flat.Real.Main && g.Node.OpType is "Gemm" or "MatMul" or "Conv").ToList())
        {
            string label = MagnitudePruningWeight.NodeLabel(node.Node);
            if (visited.Contains(label) || MagnitudePruningWeight.Resolve(flat.Real, node, out _) is not { } weight)
            {
                continue;
            }

            if (Original(teacherGraph, node.Node).Weight is { } originalWeight && !Same(weight, originalWeight))
            {
                report.AddSkipped(MagnitudePruning.Skipped(node, $"it is inside a branch of an If that never ran on the calibration data ({node.Graph.Path}), so there is nothing to fit it to"));
            }
        }
    }

    /// <summary>The teacher's node of the same operator and label as <paramref name="node"/>, and its weight.</summary>
    private static (GraphNode? Node, MagnitudePruningWeight? Weight) Original(ModelGraph teacherGraph, NodeProto node)
    {
        string label = MagnitudePruningWeight.NodeLabel(node);
        GraphNode? original = teacherGraph.AllNodes().Where(t => t.Node.OpType == node.OpType && MagnitudePruningWeight.NodeLabel(t.Node) == label).Select(t => (GraphNode?)t).FirstOrDefault();
        return (original, original is { } o ? MagnitudePruningWeight.Resolve(teacherGraph, o, out _) : null);
    }

    private static bool Same(MagnitudePruningWeight a, MagnitudePruningWeight b) =>
        a.Constant.Dims.SequenceEqual(b.Constant.Dims) && a.Read().AsSpan().SequenceEqual(b.Read());

    private static string? Unsupported(ModelGraph graph, GraphNode node, MagnitudePruningWeight weight, GraphNode original, MagnitudePruningWeight originalWeight, ReconstructionTeacher teacher)
    {
        NodeProto n = node.Node;
        if (node.Graph != graph.Main || original.Graph != original.Graph.Model.Main)
        {
            return "it is inside a subgraph that could not be inlined to read its tensors (a Loop body, or an If whose branches both ran on the data)";
        }

        if (weight.Nodes.Count != 1)
        {
            return "its weight is shared with other nodes";
        }

        if (n.OpType == "Gemm" && (ModelGraph.GetInt(n, "transA", 0) != 0 || ModelGraph.GetFloat(n, "alpha", 1) != 1 || (n.Input.Count > 2 && ModelGraph.GetFloat(n, "beta", 1) != 1)))
        {
            return "Gemm with transA, alpha or beta other than the defaults";
        }

        if (n.OpType == "Conv" && (weight.Constant.Dims.Count is not (3 or 4) || (ModelGraph.GetInt(n, "group", 1) != 1 && !ReconstructionDepthwise.IsDepthwise(n, weight))))
        {
            return "only 1-D and 2-D Conv with group 1 or depthwise (one input channel per group) is refitted";
        }

        if (n.Input.Count > 2 && n.Input[2].Length > 0 && Bias(graph, node, weight.Rows) is null)
        {
            return "its bias is not a per-output constant read only there";
        }

        IReadOnlyList<int>? kept = teacher.KeptOutputs(MagnitudePruningWeight.NodeLabel(n));
        int outputs = kept?.Count ?? originalWeight.Rows;
        return outputs == weight.Rows ? null : "its outputs do not correspond to the original layer's";
    }

    internal static ConstantTensor? Bias(ModelGraph graph, GraphNode node, int rows)
    {
        NodeProto n = node.Node;
        if (n.Input.Count <= 2 || n.Input[2].Length == 0)
        {
            return null;
        }

        ConstantTensor? c = node.Graph.FindConstant(n.Input[2]);
        return c?.Value is { } v && c.DataType == TensorProto.Types.DataType.Float && TensorData.ElementCount(v) == rows
            && graph.FindUses(c.Owner, c.Name).Count == 1 ? c : null;
    }

    private static ReconstructionLayer Refit(ModelGraph graph, ReconstructionTeacher teacher, ModelProto teacherModel, CalibrationDataSet data, ReconstructionOptions options, GraphNode node, MagnitudePruningWeight weight, GraphNode original, MagnitudePruningWeight originalWeight)
    {
        NodeProto n = node.Node;
        ModelProto model = graph.Model;
        ConstantTensor? bias = Bias(graph, node, weight.Rows);
        int[] kept = [.. teacher.KeptOutputs(MagnitudePruningWeight.NodeLabel(n)) ?? Enumerable.Range(0, originalWeight.Rows)];
        if (ReconstructionDepthwise.IsDepthwise(n, weight))
        {
            return ReconstructionDepthwise.Refit(model, teacherModel, data, options, n, original.Node, weight, bias, kept);
        }

        ReconstructionSystem system = Accumulate(n, weight, (model, n.Input[0]), (teacherModel, original.Node.Output[0]), kept, bias is not null, data, options);

        float[] values = weight.Read();
        float[]? biasValues = bias is null ? null : TensorData.ReadFloats(bias.Value!);
        var refitted = new double[weight.Rows][];
        for (int row = 0; row < weight.Rows; row++)
        {
            var w = new double[system.Size];
            for (int c = 0; c < weight.Columns; c++)
            {
                w[c] = values[weight.Index(row, c)];
            }

            if (biasValues is not null)
            {
                w[weight.Columns] = biasValues[row];
            }

            refitted[row] = w;
        }

        (double[] before, double[] after) = system.SolveAll(refitted, options.Damping);

        for (int row = 0; row < weight.Rows; row++)
        {
            for (int c = 0; c < weight.Columns; c++)
            {
                values[weight.Index(row, c)] = (float)refitted[row][c];
            }

            if (biasValues is not null)
            {
                biasValues[row] = (float)refitted[row][weight.Columns];
            }
        }

        weight.Write(values);
        if (bias is not null)
        {
            ModelGraph.ReplaceConstant(bias, TensorData.CreateFloat(bias.Name, bias.Dims.ToArray(), biasValues));
        }

        double energy = Math.Max(system.TargetEnergy, double.Epsilon);
        return new ReconstructionLayer(MagnitudePruningWeight.NodeLabel(n), n.OpType, weight.Rows, weight.Columns, system.Rows, before.Sum() / energy, after.Sum() / energy);
    }

    /// <summary>
    /// The least-squares system of <paramref name="node"/> (a Conv or a MatMul/Gemm): its input read from one model, the
    /// <paramref name="kept"/> outputs it must reproduce read from another, over every calibration batch.
    /// </summary>
    internal static ReconstructionSystem Accumulate(NodeProto node, MagnitudePruningWeight weight, (ModelProto Model, string Tensor) input, (ModelProto Model, string Tensor) output, int[] kept, bool withBias, CalibrationDataSet data, ReconstructionOptions options)
    {
        var system = new ReconstructionSystem(weight.Columns, kept.Length, withBias);
        var patch = new float[weight.Columns];
        var target = new float[kept.Length];
        using var inputs = new ReconstructionCapture(input.Model, input.Tensor);
        using var outputs = new ReconstructionCapture(output.Model, output.Tensor);
        foreach (CalibrationBatch batch in data.ReadBatches(options.BatchSize))
        {
            using (batch)
            {
                float[] x = inputs.Read(batch, out long[] xShape);
                float[] y = outputs.Read(batch, out long[] yShape);
                if (node.OpType == "Conv")
                {
                    AddConvRows(system, node, weight, options.ConvPositionsPerSample(data.SampleCount), batch.FirstSample, x, xShape, y, yShape, kept, patch, target);
                }
                else
                {
                    AddDenseRows(system, weight.Columns, x, y, (int)yShape[^1], kept, target);
                }
            }
        }

        return system;
    }

    internal static void AddDenseRows(ReconstructionSystem system, int inputs, float[] x, float[] y, int originalOutputs, int[] kept, float[] target)
    {
        int rows = x.Length / inputs;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < kept.Length; j++)
            {
                target[j] = y[((long)r * originalOutputs) + kept[j]];
            }

            system.Add(x.AsSpan(r * inputs, inputs), target);
        }
    }

    internal static void AddConvRows(ReconstructionSystem system, NodeProto node, MagnitudePruningWeight weight, int positionsPerSample, int firstSample, float[] x, long[] xShape, float[] y, long[] yShape, int[] kept, float[] patch, float[] target)
    {
        var sampler = new ConvWindowSampler(node, [.. weight.Constant.Dims], xShape, yShape, positionsPerSample);
        int channels = (int)xShape[1], originalOutputs = (int)yShape[1], window = sampler.Window;
        foreach ((int s, int position) in sampler.Sampled((int)xShape[0], firstSample))
        {
            for (int c = 0; c < channels; c++)
            {
                sampler.FillWindow(x, s, c, position, patch.AsSpan(c * window, window));
            }

            for (int j = 0; j < kept.Length; j++)
            {
                target[j] = y[((((long)s * originalOutputs) + kept[j]) * sampler.Positions) + position];
            }

            system.Add(patch, target);
        }
    }

    internal static (int Top, int Left) Pads(NodeProto node, int height, int width, int outHeight, int outWidth, int kh, int kw, long[] strides, long[] dilations) =>
        (PadBefore(node, 0, height, outHeight, kh, strides[0], dilations[0]), PadBefore(node, 1, width, outWidth, kw, strides[1], dilations[1]));

    /// <summary>The padding before the input along spatial <paramref name="axis"/>: explicit pads, or what SAME_* auto padding puts there.</summary>
    internal static int PadBefore(NodeProto node, int axis, int input, int output, int k, long stride, long dilation)
    {
        string autoPad = node.Attribute.FirstOrDefault(a => a.Name == "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int total = Math.Max(0, (int)(((output - 1) * stride) + ((k - 1) * dilation) + 1 - input));
            return autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
        }

        long[] pads = Ints(node, "pads", []);
        return autoPad == "VALID" || pads.Length <= axis ? 0 : (int)pads[axis];
    }

    internal static long[] Ints(NodeProto node, string name, long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a && a.Ints.Count > 0 ? [.. a.Ints] : fallback;
}
