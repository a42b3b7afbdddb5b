using System.Runtime.CompilerServices;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// The model as it was before its first pruning pass, remembered for a later <c>reconstruct</c> pass of
/// the same run, plus which original output channels each structurally pruned node still computes.
/// Keyed by the model object (weakly), so nothing outlives the model being compressed.
/// </summary>
public sealed class ReconstructionTeacher
{
    private static readonly ConditionalWeakTable<ModelProto, ReconstructionTeacher> Teachers = [];
    private readonly Dictionary<string, int[]> _keptOutputs = new(StringComparer.Ordinal);

    /// <summary>Creates a teacher from <paramref name="original"/> (kept as given, not copied).</summary>
    public ReconstructionTeacher(ModelProto original)
    {
        ArgumentNullException.ThrowIfNull(original);
        Model = original;
    }

    /// <summary>The unpruned model.</summary>
    public ModelProto Model { get; }

    /// <summary>
    /// For a node (by name, or first output when unnamed) whose outputs were pruned: the indices of the
    /// original outputs it still computes, ascending. Null when all are still there.
    /// </summary>
    public IReadOnlyList<int>? KeptOutputs(string node) => _keptOutputs.TryGetValue(node, out int[]? kept) ? kept : null;

    /// <summary>The teacher remembered for <paramref name="model"/>, if a pruning pass ran on it.</summary>
    public static ReconstructionTeacher? Of(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Teachers.TryGetValue(model, out ReconstructionTeacher? teacher) ? teacher : null;
    }

    /// <summary>Remembers a copy of <paramref name="model"/> as its teacher unless one is remembered already.</summary>
    internal static ReconstructionTeacher Remember(ModelProto model) => Teachers.GetValue(model, m => new ReconstructionTeacher(m.Clone()));

    /// <summary>Records that <paramref name="node"/> now keeps only the listed outputs of its current ones.</summary>
    internal void RecordKeptOutputs(string node, IReadOnlyList<int> keptOfCurrent)
    {
        int[] kept = _keptOutputs.TryGetValue(node, out int[]? earlier)
            ? [.. keptOfCurrent.Select(i => earlier[i])]
            : [.. keptOfCurrent];
        _keptOutputs[node] = kept;
    }
}
