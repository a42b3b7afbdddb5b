using System.Reflection;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>
/// Copies of pass specs that leave more nodes as they are in the original: quantize and prune passes get the nodes added
/// to <c>nodes_to_exclude</c>, float16 passes to <c>node_block_list</c>; other passes are returned as they are.
/// </summary>
public static class PassExclusion
{
    /// <summary>A copy of <paramref name="pass"/> that also leaves <paramref name="nodes"/> (exact names) alone.</summary>
    public static PassSpec WithExcluded(PassSpec pass, IReadOnlyCollection<string> nodes)
    {
        ArgumentNullException.ThrowIfNull(pass);
        ArgumentNullException.ThrowIfNull(nodes);
        string? listProperty = pass switch
        {
            QuantizePassSpec => nameof(QuantizePassSpec.NodesToExclude),
            PrunePassSpec => nameof(PrunePassSpec.NodesToExclude),
            Float16PassSpec => nameof(Float16PassSpec.NodeBlockList),
            _ => null,
        };
        if (listProperty is null || nodes.Count == 0)
        {
            return pass;
        }

        PropertyInfo list = pass.GetType().GetProperty(listProperty)!;
        var existing = (IReadOnlyList<string>)list.GetValue(pass)!;
        // Node names may contain glob characters; '[' is not special to NodeNameGlob, '*' and '?' are rare in names.
        return SpecCopy.With(pass, listProperty, (IReadOnlyList<string>)[.. existing, .. nodes.Where(n => !existing.Contains(n, StringComparer.Ordinal))]);
    }
}
