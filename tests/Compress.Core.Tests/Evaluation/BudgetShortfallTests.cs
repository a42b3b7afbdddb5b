using Compress.Core.Evaluation;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Evaluation;

/// <summary><see cref="AccuracyBudget.Shortfall"/>: how far a result is from its budget, which tuning compares step to step.</summary>
public sealed class BudgetShortfallTests
{
    private static EvaluationResult Result(double cosine, double relativeError) => new()
    {
        Output = "y",
        Before = new EvaluationMetrics { Cosine = 1 },
        After = new EvaluationMetrics { Cosine = cosine, RelativeError = relativeError },
    };

    [Test]
    public void ZeroWhenTheBudgetHolds()
    {
        var budget = new EvaluateBudgetSpec { MinCosine = 0.99, MaxRelativeError = 0.1 };

        Assert.That(AccuracyBudget.Shortfall(budget, Result(0.995, 0.05)), Is.Zero);
    }

    [Test]
    public void GapsAreMeasuredAgainstEachLimitsRoomAndAdded()
    {
        var budget = new EvaluateBudgetSpec { MinCosine = 0.99, MaxRelativeError = 0.1 };

        // cosine misses by 0.005 of a room of 0.01; relative error by 0.05 of 0.1.
        Assert.That(AccuracyBudget.Shortfall(budget, Result(0.985, 0.15)), Is.EqualTo(0.5 + 0.5).Within(1e-9));
    }

    [Test]
    public void CloserToTheBudgetIsSmaller()
    {
        var budget = new EvaluateBudgetSpec { MinCosine = 0.995 };

        Assert.That(AccuracyBudget.Shortfall(budget, Result(0.994, 0.2)), Is.LessThan(AccuracyBudget.Shortfall(budget, Result(0.991, 0.1))));
    }
}
