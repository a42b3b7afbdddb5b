using Compress.Core.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>How <see cref="StructuredPruningAllocation"/> shares a budget between layers' removal curves.</summary>
public class StructuredPruningAllocationTests
{
    [Test]
    public void TheCheaperLayerPerChannelGoesFirst()
    {
        // Removing k channels costs 0.001 k in the first layer and 0.01 k in the second.
        StructuredPruningCurve cheap = Linear(32, 16, 0.001), dear = Linear(32, 16, 0.01);

        int[] kept = StructuredPruningAllocation.Allocate([cheap, dear], Channels, budget: 16, multiple: 16);

        Assert.That(kept, Is.EqualTo(Ints(16, 32)));
    }

    [Test]
    public void WeightsTurnTheCostIntoCostPerMultiplyAdd()
    {
        // The dear layer's channels are 100 times as expensive to compute: per unit of compute they are cheaper to drop.
        StructuredPruningCurve cheap = Linear(32, 16, 0.001), dear = Linear(32, 16, 0.01);

        int[] kept = StructuredPruningAllocation.Allocate([cheap, dear], kept => kept[0] + (100.0 * kept[1]), budget: 1600, multiple: 16);

        Assert.That(kept, Is.EqualTo(Ints(32, 16)));
    }

    [Test]
    public void StepsGoToMultiplesAndTheBudgetIsReachedByTheLastStep()
    {
        // 40 -> 32 (8 channels) first, since a multiple of 16 is the next level; then 32 -> 16.
        StructuredPruningCurve a = Linear(40, 24, 0.001), b = Linear(48, 32, 0.002);

        int[] kept = StructuredPruningAllocation.Allocate([a, b], Channels, budget: 20, multiple: 16);

        Assert.That(kept, Is.EqualTo(Ints(16, 48)), "8 + 16 = 24 removed: the step that crosses 20 is taken whole");
    }

    [Test]
    public void AnExhaustedBudgetStopsAtTheEndOfEveryCurve()
    {
        // The second curve was measured down to 24 kept only, so 16 is out of its reach.
        StructuredPruningCurve a = Linear(32, 16, 0.001), b = Linear(32, 8, 0.0001);

        int[] kept = StructuredPruningAllocation.Allocate([a, b], Channels, budget: 1000, multiple: 16);

        Assert.That(kept, Is.EqualTo(Ints(16, 32)));
    }

    [Test]
    public void TiesGoToTheEarlierLayerAndMultipleOneStepsChannelByChannel()
    {
        StructuredPruningCurve a = Linear(4, 3, 0.5), b = Linear(4, 3, 0.5);

        Assert.That(StructuredPruningAllocation.Allocate([a, b], Channels, budget: 3, multiple: 1), Is.EqualTo(Ints(1, 4)));
    }

    [TestCase(32, 16, 16)]
    [TestCase(40, 16, 32)]
    [TestCase(16, 16, 0)]
    [TestCase(5, 1, 4)]
    [TestCase(18, 8, 16)]
    public void NextLevelIsTheLargestMultipleBelow(int kept, int multiple, int next) =>
        Assert.That(StructuredPruningAllocation.NextLevel(kept, multiple), Is.EqualTo(next));

    [Test]
    public void CurveRankingListsTheKeptAscendingThenTheRemovedLastFirst()
    {
        var curve = new StructuredPruningCurve(5, [3, 0, 4], [0.1, 0.3, 0.6]);

        Assert.That(curve.Ranking(3), Is.EqualTo(Ints(1, 2, 4, 0, 3)));
        Assert.That(curve.Ranking(2), Is.EqualTo(Ints(1, 2, 4, 0, 3)));
        Assert.That(curve.Ranking(4), Is.EqualTo(Ints(0, 1, 2, 4, 3)));
        Assert.That((curve.ErrorAt(5), curve.ErrorAt(4), curve.ErrorAt(2)), Is.EqualTo((0.0, 0.1, 0.6)));
    }

    private static int[] Ints(params int[] values) => values;

    /// <summary>Counts channels: each step saves the channels it removes.</summary>
    private static double Channels(int[] kept) => kept.Sum();

    /// <summary>A curve of <paramref name="channels"/> removing <paramref name="removable"/> channels (highest index first) at <paramref name="perChannel"/> each.</summary>
    private static StructuredPruningCurve Linear(int channels, int removable, double perChannel) =>
        new(channels, [.. Enumerable.Range(0, removable).Select(i => channels - 1 - i)], [.. Enumerable.Range(1, removable).Select(k => k * perChannel)]);
}
