namespace Compress.Core.Passes;

/// <summary>
/// Shares one budget between layers (structured pruning with <see cref="MagnitudePruningScope.Global"/>): a
/// configuration of kept outputs has a compute (multiply-adds, or the kept count itself to count channels); starting
/// from every layer whole, the step that costs the least relative error per unit of compute saved is taken until the
/// budget is saved. A step takes a layer down to the next multiple of the channel multiple below its current count, never
/// below the end of its measured curve.
/// </summary>
internal static class StructuredPruningAllocation
{
    /// <summary>
    /// Kept outputs per layer (same order as <paramref name="curves"/>): at least <paramref name="budget"/> of
    /// <paramref name="compute"/> saved, unless every curve is exhausted first; the last step may overshoot by less
    /// than one step. Ties go to the earlier layer; a step that saves nothing is never taken.
    /// </summary>
    public static int[] Allocate(IReadOnlyList<StructuredPruningCurve> curves, Func<int[], double> compute, double budget, int multiple)
    {
        ArgumentNullException.ThrowIfNull(curves);
        ArgumentNullException.ThrowIfNull(compute);
        ArgumentOutOfRangeException.ThrowIfLessThan(multiple, 1);
        int[] kept = [.. curves.Select(c => c.Channels)];
        double whole = compute(kept), current = whole;
        while (whole - current < budget)
        {
            int best = -1, bestNext = 0;
            double bestCost = double.PositiveInfinity, bestCompute = current;
            for (int i = 0; i < curves.Count; i++)
            {
                int next = NextLevel(kept[i], multiple);
                if (next < curves[i].Channels - curves[i].Removed.Length)
                {
                    continue;
                }

                int previous = kept[i];
                kept[i] = next;
                double after = compute(kept);
                kept[i] = previous;
                if (!(after < current))
                {
                    continue;
                }

                double cost = (curves[i].ErrorAt(next) - curves[i].ErrorAt(previous)) / (current - after);
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = i;
                    bestNext = next;
                    bestCompute = after;
                }
            }

            if (best < 0)
            {
                break;
            }

            kept[best] = bestNext;
            current = bestCompute;
        }

        return kept;
    }

    /// <summary>The largest multiple of <paramref name="multiple"/> below <paramref name="kept"/> (0 when there is none).</summary>
    public static int NextLevel(int kept, int multiple) => (kept - 1) / multiple * multiple;
}
