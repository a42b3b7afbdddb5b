namespace Compress.Core.Passes;

/// <summary>
/// How a layer's channels go under activation importance: the greedy removal order and, after each removal, the
/// consuming layers' least-squares error (as if refitted) relative to their original output energy.
/// </summary>
/// <param name="Channels">The layer's outputs.</param>
/// <param name="Removed">Channels in the order they are removed (least needed first).</param>
/// <param name="Errors">Errors[i]: the relative error once Removed[0..i] are gone; never decreasing.</param>
internal sealed record StructuredPruningCurve(int Channels, int[] Removed, double[] Errors)
{
    /// <summary>The relative error when <paramref name="keep"/> channels are kept (0 when all are).</summary>
    public double ErrorAt(int keep) => keep >= Channels ? 0 : Errors[Channels - keep - 1];

    /// <summary>Output indices from most to least important with <paramref name="keep"/> kept: the kept ones ascending, then the removed ones, last removed first.</summary>
    public int[] Ranking(int keep)
    {
        int gone = Channels - keep;
        var removed = new HashSet<int>(Removed.Take(gone));
        return [.. Enumerable.Range(0, Channels).Where(c => !removed.Contains(c)), .. Removed.Take(gone).Reverse()];
    }
}
