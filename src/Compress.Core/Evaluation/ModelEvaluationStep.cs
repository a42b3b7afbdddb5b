using System.Globalization;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>
/// The pipeline's evaluation stage for a model with an <c>evaluate</c> block: measure, tune when asked, fill the
/// report, and turn a missed budget into CMP2001 (or CMP2002 after tuning). The severity is the spec's
/// <c>on_failure</c>, downgraded to a warning when the build asks for warnings (<c>--on-accuracy-failure warning</c>).
/// Tuning first tries the decisions an earlier build cached (<see cref="TuningDecisionCache"/>) and stores its own.
/// </summary>
/// <param name="context">The model's pass-run context: progress, and the calibration tuning reuses.</param>
/// <param name="decisions">Tuning decisions of earlier builds.</param>
public sealed class ModelEvaluationStep(PassRunContext context, TuningDecisionCache decisions)
{
    /// <summary>Evaluates <paramref name="compressed"/> and returns the model to write (the tuned one after tuning).</summary>
    /// <param name="model">The model entry (its <see cref="ModelSpec.Evaluate"/> is set).</param>
    /// <param name="original">The source model before any pass (not changed).</param>
    /// <param name="compressed">The model after the passes as written.</param>
    /// <param name="report">Receives the evaluation, the tuning steps and (after tuning) the passes of the tuned run.</param>
    /// <param name="buildSeverity">The build-level severity of accuracy failures.</param>
    /// <param name="warn">Receives a warning when the budget is missed and the outcome is a warning.</param>
    /// <exception cref="CompressException">CMP2001/CMP2002 as an error: the budget is missed and nothing may be written.</exception>
    public ModelProto Apply(ModelSpec model, ModelProto original, ModelProto compressed, ModelReport report, AccuracyFailureSeverity buildSeverity, Action<Diagnostic> warn)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(warn);
        EvaluateSpec spec = model.Evaluate ?? throw new ArgumentException("The model has no evaluate block.", nameof(model));
        EvaluationReference reference;
        EvaluationResult result;
        IReadOnlyList<BudgetViolation> violations;
        try
        {
            ModelProgress? progress = context.Progress;
            reference = EvaluationReference.Create(original, EvaluationData.From(spec), (done, total) => progress?.Report("evaluating the original", done, total));
            result = reference.Evaluate(compressed, (done, total) => progress?.Report("evaluating", done, total));
            violations = AccuracyBudget.Check(spec.Budget, result);
        }
        catch (CompressException e) when (e.Diagnostic.File is null)
        {
            // Data problems point at the evaluate block that names the data.
            throw new CompressException(e.Diagnostic with { File = spec.Location.File, Line = spec.Location.Line, Column = spec.Location.Column }, e);
        }

        EvaluationMetrics? untuned = null;
        TuningOutcome? tuning = null;
        TuningDecisionReport? decisionReport = null;
        if (violations.Count > 0 && spec.OnFailure == EvaluateFailureAction.Tune)
        {
            (tuning, decisionReport) = Tune(model, spec, original, reference, result, [.. report.Passes]);
            untuned = result.After;
            compressed = tuning.Model;
            result = tuning.Result;
            violations = AccuracyBudget.Check(spec.Budget, result);
            if (tuning.Steps.Count > 0)
            {
                report.Passes.Clear();
                foreach (PassReport pass in tuning.PassReports)
                {
                    report.Passes.Add(pass);
                }
            }

            report.Tuning = tuning.Steps;
        }

        report.Evaluation = new EvaluationReport
        {
            Output = result.Output,
            Samples = result.Samples,
            Labels = result.HasLabels,
            Classes = result.Classes,
            TopK = result.TopK,
            OnFailure = spec.OnFailure,
            Budget = EvaluationReport.BudgetOf(spec.Budget),
            Before = result.Before,
            After = result.After,
            AfterUntuned = untuned,
            Evaluations = reference.Evaluations,
            TuningDecisions = decisionReport,
            AccuracyDrop = result.AccuracyDrop,
            Passed = violations.Count == 0,
            Violations = [.. violations.Select(v => v.ToString())],
            KeptAtHigherPrecision = tuning?.Excluded ?? [],
            TunedQuantization = tuning?.Quantization,
            LayerSensitivity = tuning?.Sensitivities,
        };

        if (violations.Count == 0)
        {
            return compressed;
        }

        string missed = string.Join("; ", violations);
        string message = tuning is null
            ? $"Model '{model.Name}' misses its accuracy budget: {missed}."
            : string.Create(CultureInfo.InvariantCulture, $"Model '{model.Name}' misses its accuracy budget even with {tuning.Excluded.Count} of {tuning.Sensitivities.Count} candidate layers left uncompressed ({string.Join(", ", tuning.Excluded)}){(tuning.Quantization is { } q ? $" and quantization settings {q}" : string.Empty)}: {missed}.");
        string code = tuning is null ? DiagnosticCodes.AccuracyBudgetMissed : DiagnosticCodes.AccuracyTuningFailed;
        bool asWarning = spec.OnFailure == EvaluateFailureAction.Warning || buildSeverity == AccuracyFailureSeverity.Warning;
        if (!asWarning)
        {
            string remedy = tuning is null ? "relax the budget, use on_failure: tune," : "relax the budget, raise max_excluded_layers if it limited the search,";
            throw new CompressException(spec.Location.Error(code, message + $" Nothing was written; {remedy} or use on_failure: warning to write it anyway."));
        }

        warn(spec.Location.Warning(code, message + " The model was written anyway (on_failure: warning or --on-accuracy-failure warning)."));
        return compressed;
    }

    /// <summary>Cached decisions when they still meet the budget, otherwise a search whose successful decisions are stored.</summary>
    private (TuningOutcome Outcome, TuningDecisionReport Report) Tune(ModelSpec model, EvaluateSpec spec, ModelProto original, EvaluationReference reference, EvaluationResult untuned, IReadOnlyList<PassReport> untunedReports)
    {
        string? key = decisions.KeyOf(model);
        bool stale = false;
        if (key is not null && decisions.TryLoad(key) is { } cached)
        {
            TuningOutcome reused = AccuracyTuner.Reuse(original, model.Passes, reference, spec.Budget, cached, context);
            if (reused.Succeeded)
            {
                return (reused, new TuningDecisionReport(TuningDecisionStatus.Reused, key));
            }

            stale = true;
        }

        TuningOutcome outcome = AccuracyTuner.Tune(original, model.Passes, reference, spec.Budget, untuned, spec.MaxExcludedLayers, context, context.Progress, untunedReports, spec.TuneQuantization);
        if (key is null || !outcome.Succeeded)
        {
            return (outcome, new TuningDecisionReport(TuningDecisionStatus.NotCached, key));
        }

        decisions.Store(key, new TuningDecision(outcome.Excluded, outcome.Sensitivities, outcome.Quantization));
        return (outcome, new TuningDecisionReport(stale ? TuningDecisionStatus.Stale : TuningDecisionStatus.Stored, key));
    }
}
