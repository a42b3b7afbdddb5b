using Compress.Core.Diagnostics;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>Checks an <see cref="EvaluationResult"/> against the limits of an <see cref="EvaluateBudgetSpec"/>.</summary>
public static class AccuracyBudget
{
    /// <summary>The limits missed; empty when the budget holds.</summary>
    /// <exception cref="CompressException">CMP2003 when a classification limit is set for an output that is not [N, classes].</exception>
    public static IReadOnlyList<BudgetViolation> Check(EvaluateBudgetSpec budget, EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(result);
        bool classificationLimit = budget.MaxAccuracyDrop is not null || budget.MinAccuracy is not null || budget.MinAgreement is not null;
        if (classificationLimit && result.Classes is null)
        {
            throw new CompressException(
                DiagnosticCodes.EvaluationDataInvalid,
                $"max_accuracy_drop, min_accuracy and min_agreement need a [N, classes] or [N, 1] output, but '{result.Output}' is not one; use min_cosine, max_abs_error, max_mean_abs_error or max_relative_error.");
        }

        var violations = new List<BudgetViolation>();
        void AtMost(string key, double? measured, double? limit)
        {
            if (limit is double l && measured is double m && !(m <= l))
            {
                violations.Add(new BudgetViolation(key, m, l));
            }
        }

        void AtLeast(string key, double? measured, double? limit)
        {
            if (limit is double l && measured is double m && !(m >= l))
            {
                violations.Add(new BudgetViolation(key, m, l));
            }
        }

        AtMost(EvaluateKeys.MaxAccuracyDrop, result.AccuracyDrop, budget.MaxAccuracyDrop);
        AtLeast(EvaluateKeys.MinAccuracy, result.After.Accuracy, budget.MinAccuracy);
        AtLeast(EvaluateKeys.MinAgreement, result.After.Agreement, budget.MinAgreement);
        AtLeast(EvaluateKeys.MinCosine, result.After.Cosine, budget.MinCosine);
        AtLeast(EvaluateKeys.MinMaskIou, result.After.MaskIou, budget.MinMaskIou);
        AtMost(EvaluateKeys.MaxAbsError, result.After.MaxAbsError, budget.MaxAbsError);
        AtMost(EvaluateKeys.MaxMeanAbsError, result.After.MeanAbsError, budget.MaxMeanAbsError);
        AtMost(EvaluateKeys.MaxRelativeError, result.After.RelativeError, budget.MaxRelativeError);
        return violations;
    }

    /// <summary>
    /// How far <paramref name="result"/> is from meeting <paramref name="budget"/>: the sum over missed limits of the
    /// gap relative to the limit's room (1 − limit for limits at most 1, the limit itself for error limits); 0 when
    /// the budget holds. Tuning uses it to tell whether a step brought the model closer to the budget.
    /// </summary>
    public static double Shortfall(EvaluateBudgetSpec budget, EvaluationResult result)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(result);
        double total = 0;
        foreach (BudgetViolation violation in Check(budget, result))
        {
            double gap = Math.Abs(violation.Measured - violation.Limit);
            bool atLeast = violation.Key is EvaluateKeys.MinAccuracy or EvaluateKeys.MinAgreement or EvaluateKeys.MinCosine or EvaluateKeys.MinMaskIou;
            double room = atLeast ? 1 - violation.Limit : violation.Limit;
            total += double.IsNaN(gap) ? double.MaxValue : gap / Math.Max(room, 1e-6);
        }

        return total;
    }
}
