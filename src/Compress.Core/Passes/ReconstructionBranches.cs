using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Makes layers inside <c>If</c> branches refittable. ONNX Runtime returns only main-graph tensors, so, as for
/// calibration (<see cref="TakenBranchInliner"/>), the pruned model and its teacher are copied with the branches
/// that ran on the data inlined; layers are refitted on those copies and their new weights and biases are written
/// back, by name, into the real model. Silero VAD keeps all its Conv inside such branches.
/// </summary>
internal sealed class ReconstructionBranches
{
    private ReconstructionBranches(ModelGraph real, ModelGraph student, ModelProto teacher)
    {
        Real = real;
        Student = student;
        Teacher = teacher;
    }

    /// <summary>The model being compressed.</summary>
    public ModelGraph Real { get; }

    /// <summary>The model whose layers are refitted: <see cref="Real"/> itself, or its flattened copy.</summary>
    public ModelGraph Student { get; }

    /// <summary>The teacher, flattened the same way when the student is.</summary>
    public ModelProto Teacher { get; }

    /// <summary>True when <see cref="Student"/> is a flattened copy whose refits must be written back.</summary>
    public bool IsCopy => !ReferenceEquals(Student, Real);

    /// <summary>The model and teacher as they are, or flattened copies when the model has a main-graph If.</summary>
    public static ReconstructionBranches Flatten(ModelProto model, ModelProto teacher, CalibrationDataSet data, ReconstructionOptions options)
    {
        // Inlining runs the model over the data once; only worth it when a refittable layer sits in a branch.
        var real = new ModelGraph(model);
        bool layerInBranch = real.AllNodes().Any(n => n.Graph != real.Main && n.Node.OpType is "Conv" or "Gemm" or "MatMul");
        if (!layerInBranch || !model.Graph.Node.Any(n => n.OpType == "If" && ModelGraph.IsDefaultDomain(n.Domain)))
        {
            return new ReconstructionBranches(real, real, teacher);
        }

        var calibration = new CalibrationOptions { BatchSize = options.BatchSize };
        ModelProto student = model.Clone();
        ModelProto flatTeacher = teacher.Clone();
        TakenBranchInliner.Inline(student, data, calibration, m => Calibrator.CreateSession(m, calibration));
        TakenBranchInliner.Inline(flatTeacher, data, calibration, m => Calibrator.CreateSession(m, calibration));
        return new ReconstructionBranches(real, new ModelGraph(student), flatTeacher);
    }

    /// <summary>
    /// The real model's node for <paramref name="copy"/> (same label and operator; default when there is none or several)
    /// with the weight and bias a refit goes to, or the reason its refit could not be written back: missing or ambiguous,
    /// or a weight or bias also read elsewhere (e.g. by the branch that never ran).
    /// </summary>
    public string? Counterpart(NodeProto copy, bool withBias, out (GraphNode Node, MagnitudePruningWeight? Weight, ConstantTensor? Bias) real)
    {
        real = default;
        string label = MagnitudePruningWeight.NodeLabel(copy);
        List<GraphNode> matches = [.. Real.AllNodes().Where(g => g.Node.OpType == copy.OpType && MagnitudePruningWeight.NodeLabel(g.Node) == label)];
        if (matches.Count != 1)
        {
            return "its name is not unique across the If branches, so its refit cannot be written back";
        }

        MagnitudePruningWeight? weight = MagnitudePruningWeight.Resolve(Real, matches[0], out string? why);
        ConstantTensor? bias = weight is null ? null : Reconstruction.Bias(Real, matches[0], weight.Rows);
        real = (matches[0], weight, bias);
        if (weight is null || weight.Nodes.Count != 1)
        {
            return $"its weight {why ?? "is shared with other nodes (in the model with every If branch)"}";
        }

        return withBias && bias is null ? "its bias is read elsewhere too (in the model with every If branch)" : null;
    }

    /// <summary>Copies the refitted weight and bias of <paramref name="copy"/> to the real model's <paramref name="weight"/> and <paramref name="bias"/>.</summary>
    public void WriteBack(GraphNode copy, MagnitudePruningWeight weight, ConstantTensor? bias)
    {
        MagnitudePruningWeight refitted = MagnitudePruningWeight.Resolve(Student, copy, out _)!;
        weight.Write(refitted.Read());
        if (bias is not null && Reconstruction.Bias(Student, copy, refitted.Rows) is { } refittedBias)
        {
            ModelGraph.ReplaceConstant(bias, TensorData.CreateFloat(bias.Name, [.. bias.Dims], TensorData.ReadFloats(refittedBias.Value!)));
        }
    }
}
