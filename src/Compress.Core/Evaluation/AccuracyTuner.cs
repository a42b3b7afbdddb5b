using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Spec;

namespace Compress.Core.Evaluation;

/// <summary>
/// Meets an accuracy budget by leaving the most sensitive layers as they are in the original: in float for quantize and
/// float16 passes, unpruned for prune passes. Sensitivity is measured, not guessed:
/// for each candidate layer the passes run from the original with only that layer excluded, and the drop of the
/// relative output error is its contribution. Layers are then tried in that order, one more per step (passes
/// re-run from the original each time), keeping each only if it helps, until the budget holds. Then the kept set
/// is trimmed: each kept layer, the last added first, is compressed again if the budget holds without it.
/// With <c>tune_quantization</c>, the other settings of the static quantize passes (calibration method, range symmetry,
/// per-channel weights) are tried first (one run each, <see cref="QuantizationChoices"/>): the one closest to the budget
/// replaces the written one if it is closer, and layers are measured and held back on top of it only if the budget still
/// does not hold.
/// </summary>
public static class AccuracyTuner
{
    private static readonly HashSet<string> WeightedOpTypes = new(StringComparer.Ordinal)
    {
        "Conv", "ConvTranspose", "MatMul", "Gemm", "LSTM", "GRU", "Gather",
    };

    /// <summary>Tunes the passes of one model.</summary>
    /// <param name="original">The source model (not changed).</param>
    /// <param name="passes">The model's passes as written in the spec.</param>
    /// <param name="reference">The original's outputs on the evaluation data.</param>
    /// <param name="budget">The budget to meet.</param>
    /// <param name="untuned">The evaluation of the model compressed with the passes as written.</param>
    /// <param name="maxExcluded">Leave at most this many layers as in the original; null: every candidate.</param>
    /// <param name="context">Shared by the pass runs (calibration is reused); null: <see cref="PassRunContext.None"/>.</param>
    /// <param name="progress">Receives the progress of the sensitivity measurement and of the steps; null reports nothing.</param>
    /// <param name="untunedReports">
    /// The pass reports of the untuned run: layers a prune pass skipped there (they stay whole anyway) are no candidates.
    /// </param>
    /// <param name="tuneQuantization">Whether to try the other settings of static quantize passes first.</param>
    public static TuningOutcome Tune(
        ModelProto original,
        IReadOnlyList<PassSpec> passes,
        EvaluationReference reference,
        EvaluateBudgetSpec budget,
        EvaluationResult untuned,
        int? maxExcluded = null,
        PassRunContext? context = null,
        ModelProgress? progress = null,
        IReadOnlyList<PassReport>? untunedReports = null,
        bool tuneQuantization = false)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(passes);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(untuned);
        // The tuner reports its own progress; the many short runs inside it would only make a bar flicker.
        PassRunContext runs = (context ?? PassRunContext.None).Quiet();

        var steps = new List<TuningStep>();
        (ModelProto Model, IReadOnlyList<PassReport> Reports, EvaluationResult Result)? best = null;
        QuantizationChoice? settings = null;
        if (tuneQuantization && QuantizationChoices.Written(passes) is { } written)
        {
            if (SearchQuantization(original, passes, written, reference, budget, untuned, runs, steps, progress) is { } chosen)
            {
                // The layers are measured against, and held back on top of, the chosen settings (the same spec
                // objects as in its step, so the calibration memo does not calibrate them again).
                (settings, passes, best, untuned) = (chosen.Choice, chosen.Passes, chosen.Run, chosen.Run.Result);
                if (AccuracyBudget.Check(budget, untuned).Count == 0)
                {
                    return new TuningOutcome
                    {
                        Succeeded = true,
                        Model = chosen.Run.Model,
                        PassReports = chosen.Run.Reports,
                        Result = chosen.Run.Result,
                        Excluded = [],
                        Steps = steps,
                        Sensitivities = [],
                        Quantization = settings,
                    };
                }
            }
        }

        IReadOnlyList<(string Node, string OpType)> candidates = Candidates(original, passes, NotPruned(untunedReports));
        var tried = new Dictionary<string, (ModelProto Model, IReadOnlyList<PassReport> Reports, EvaluationResult Result)>(StringComparer.Ordinal);
        var sensitivities = new List<LayerSensitivity>();
        foreach ((string node, string opType) in candidates)
        {
            progress?.Report("measuring layer sensitivity", sensitivities.Count, candidates.Count);
            var run = Run(original, passes, [node], reference, runs);
            tried[node] = run;
            sensitivities.Add(new LayerSensitivity(
                node,
                opType,
                run.Result.After.RelativeError,
                untuned.After.RelativeError - run.Result.After.RelativeError,
                run.Result.After.Agreement));
        }

        progress?.Report("measuring layer sensitivity", sensitivities.Count, candidates.Count);

        // Layers whose exclusion measurably helps come first, most helpful first. Then layers that carry
        // weights (they change the numerics), and data-movement ops last: excluding those alone changes nothing.
        sensitivities = [.. sensitivities
            .OrderByDescending(s => s.Sensitivity > 0)
            .ThenByDescending(s => s.Sensitivity > 0 ? s.Sensitivity : 0)
            .ThenByDescending(s => WeightedOpTypes.Contains(s.OpType))
            .ThenByDescending(s => s.Sensitivity)
            .ThenBy(s => s.Node, StringComparer.Ordinal)];
        // Greedy, in sensitivity order: a layer stays in float only if it brings the model closer to the budget
        // (smaller shortfall; on a tie, e.g. unchanged agreement, a smaller relative error). Errors of quantized
        // layers do not simply add up (on ocr-det some cancel), so keeping every tried layer can make the model worse
        // step by step; a rejected layer costs one evaluation and nothing else.
        var excluded = new List<string>();
        double bestShortfall = AccuracyBudget.Shortfall(budget, untuned);
        double bestError = untuned.After.RelativeError;
        bool succeeded = false;
        int maxKept = maxExcluded ?? int.MaxValue;
        for (int i = 0; i < sensitivities.Count && excluded.Count < maxKept; i++)
        {
            progress?.Report("tuning", i, sensitivities.Count);
            List<string> trial = [.. excluded, sensitivities[i].Node];
            var run = trial.Count == 1 ? tried[trial[0]] : Run(original, passes, trial, reference, runs);
            bool passed = AccuracyBudget.Check(budget, run.Result).Count == 0;
            double shortfall = AccuracyBudget.Shortfall(budget, run.Result);
            double error = run.Result.After.RelativeError;
            bool kept = passed || shortfall < bestShortfall || (shortfall == bestShortfall && error < bestError);
            steps.Add(new TuningStep(steps.Count + 1, trial, run.Result.After, run.Result.AccuracyDrop, passed, kept));
            if (kept)
            {
                excluded = trial;
                best = run;
                bestShortfall = shortfall;
                bestError = error;
            }

            if (passed)
            {
                succeeded = true;
                break;
            }
        }

        progress?.Report("tuning", sensitivities.Count, sensitivities.Count);

        // A layer added early may no longer be needed once later ones are in float (on Silero the STFT Conv only helps
        // together with the Mul/Add before Log): every layer not needed is one more int8 kernel, so try each again.
        if (succeeded && excluded.Count > 1)
        {
            List<string> searched = [.. excluded.AsEnumerable().Reverse()];
            for (int i = 0; i < searched.Count; i++)
            {
                string node = searched[i];
                progress?.Report("trimming", i, searched.Count);
                List<string> trial = [.. excluded.Where(n => n != node)];
                var run = Run(original, passes, trial, reference, runs);
                bool passed = AccuracyBudget.Check(budget, run.Result).Count == 0;
                steps.Add(new TuningStep(steps.Count + 1, trial, run.Result.After, run.Result.AccuracyDrop, passed, Kept: passed, Requantized: node));
                if (passed)
                {
                    excluded = trial;
                    best = run;
                }
            }

            progress?.Report("trimming", searched.Count, searched.Count);
        }

        if (best is not { } final)
        {
            return new TuningOutcome
            {
                Succeeded = false,
                Model = RunPasses(original, passes, runs).Model,
                PassReports = [],
                Result = untuned,
                Excluded = [],
                Steps = steps,
                Sensitivities = sensitivities,
            };
        }

        return new TuningOutcome
        {
            Succeeded = succeeded,
            Model = final.Model,
            PassReports = final.Reports,
            Result = final.Result,
            Excluded = [.. excluded],
            Steps = steps,
            Sensitivities = sensitivities,
            Quantization = settings,
        };
    }

    /// <summary>
    /// Runs the passes once per alternative setting with no layer held back, adding a step each, group by group: the
    /// other weight granularity is tried only when no calibration with the written one meets the budget. The alternative
    /// closest to the budget (on a tie, with the smaller relative error) is chosen if it beats the written settings; null
    /// when none does.
    /// </summary>
    private static (QuantizationChoice Choice, IReadOnlyList<PassSpec> Passes, (ModelProto Model, IReadOnlyList<PassReport> Reports, EvaluationResult Result) Run)? SearchQuantization(
        ModelProto original,
        IReadOnlyList<PassSpec> passes,
        QuantizationChoice written,
        EvaluationReference reference,
        EvaluateBudgetSpec budget,
        EvaluationResult untuned,
        PassRunContext runs,
        List<TuningStep> steps,
        ModelProgress? progress)
    {
        IReadOnlyList<IReadOnlyList<QuantizationChoice>> groups = QuantizationChoices.Alternatives(written);
        int total = groups.Sum(g => g.Count), tried = 0;
        double bestShortfall = AccuracyBudget.Shortfall(budget, untuned);
        double bestError = untuned.After.RelativeError;
        int chosenStep = -1;
        (QuantizationChoice Choice, IReadOnlyList<PassSpec> Passes, (ModelProto Model, IReadOnlyList<PassReport> Reports, EvaluationResult Result) Run)? chosen = null;
        foreach (IReadOnlyList<QuantizationChoice> group in groups)
        {
            if (chosen is { } sofar && AccuracyBudget.Check(budget, sofar.Run.Result).Count == 0)
            {
                break;
            }

            foreach (QuantizationChoice candidate in group)
            {
                progress?.Report("trying quantization settings", tried++, total);
                IReadOnlyList<PassSpec> alternative = QuantizationChoices.Apply(passes, candidate);
                var run = Run(original, alternative, [], reference, runs);
                bool passed = AccuracyBudget.Check(budget, run.Result).Count == 0;
                double shortfall = AccuracyBudget.Shortfall(budget, run.Result);
                double error = run.Result.After.RelativeError;
                steps.Add(new TuningStep(steps.Count + 1, [], run.Result.After, run.Result.AccuracyDrop, passed, Kept: false, Quantization: candidate.ToString()));
                if (shortfall < bestShortfall || (shortfall == bestShortfall && error < bestError))
                {
                    (bestShortfall, bestError, chosenStep, chosen) = (shortfall, error, steps.Count - 1, (candidate, alternative, run));
                }
            }
        }

        progress?.Report("trying quantization settings", total, total);
        if (chosenStep >= 0)
        {
            steps[chosenStep] = steps[chosenStep] with { Kept = true };
        }

        return chosen;
    }

    /// <summary>
    /// Re-applies decisions of an earlier build: the passes run from the original with <paramref name="decision"/>'s
    /// quantization settings and its nodes kept as in the original, and one evaluation says whether the budget still holds.
    /// </summary>
    /// <returns>A one-step outcome (<see cref="TuningOutcome.Succeeded"/> says whether the decisions still hold).</returns>
    public static TuningOutcome Reuse(
        ModelProto original,
        IReadOnlyList<PassSpec> passes,
        EvaluationReference reference,
        EvaluateBudgetSpec budget,
        TuningDecision decision,
        PassRunContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(passes);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentNullException.ThrowIfNull(decision);
        IReadOnlyList<PassSpec> decided = decision.Quantization is { } settings ? QuantizationChoices.Apply(passes, settings) : passes;
        var run = Run(original, decided, decision.KeptAtHigherPrecision, reference, (context ?? PassRunContext.None).Quiet());
        bool passed = AccuracyBudget.Check(budget, run.Result).Count == 0;
        return new TuningOutcome
        {
            Succeeded = passed,
            Model = run.Model,
            PassReports = run.Reports,
            Result = run.Result,
            Excluded = decision.KeptAtHigherPrecision,
            Steps = [new TuningStep(1, decision.KeptAtHigherPrecision, run.Result.After, run.Result.AccuracyDrop, passed, passed, Quantization: decision.Quantization?.ToString())],
            Sensitivities = decision.LayerSensitivity,
            Quantization = decision.Quantization,
        };
    }

    /// <summary>
    /// The named nodes (main graph and subgraphs) that a quantize pass would quantize, a float16 pass convert or a prune
    /// pass prune, in graph order: the layers tuning may leave as they are in the original.
    /// </summary>
    /// <param name="model">The original model.</param>
    /// <param name="passes">The passes as written.</param>
    /// <param name="notPruned">
    /// Layers the prune passes left whole when they ran as written (a residual, a graph output, …); null: every layer of
    /// a pruned operator type is a candidate.
    /// </param>
    public static IReadOnlyList<(string Node, string OpType)> Candidates(ModelProto model, IReadOnlyList<PassSpec> passes, IReadOnlySet<string>? notPruned = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(passes);
        var candidates = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var constants = new HashSet<string>(StringComparer.Ordinal);
        Visit(model.Graph);
        return candidates;

        void Visit(GraphProto graph)
        {
            constants.UnionWith(graph.Initializer.Select(i => i.Name));
            constants.UnionWith(graph.Node.Where(n => n.OpType == "Constant").SelectMany(n => n.Output));
            foreach (NodeProto node in graph.Node)
            {
                if (node.Name.Length > 0 && passes.Any(p => Selects(p, node)) && seen.Add(node.Name))
                {
                    candidates.Add((node.Name, node.OpType));
                }

                foreach (AttributeProto attribute in node.Attribute)
                {
                    if (attribute.G is { } subgraph)
                    {
                        Visit(subgraph);
                    }

                    foreach (GraphProto g in attribute.Graphs)
                    {
                        Visit(g);
                    }
                }
            }
        }

        bool Selects(PassSpec pass, NodeProto node) => pass switch
        {
            QuantizePassSpec q => q.OpTypesToQuantize.Contains(node.OpType, StringComparer.Ordinal) && q.SelectsNode(node.Name),
            // float16 converts every node; only those with weights are worth keeping in float.
            Float16PassSpec f => !f.BlocksNode(node.OpType, node.Name) && node.Input.Any(constants.Contains),
            PrunePassSpec p => p.OpTypes.Contains(node.OpType, StringComparer.Ordinal) && ModelGraph.IsDefaultDomain(node.Domain)
                && node.Input.Count > 1 && constants.Contains(node.Input[1])
                && !p.NodesToExclude.Any(g => NodeNameGlob.IsMatch(g, node.Name)) && notPruned?.Contains(node.Name) != true,
            _ => false,
        };
    }

    /// <summary>
    /// The nodes that every prune pass of <paramref name="reports"/> reported as skipped (one that another prune pass
    /// changed is still a candidate); null when no prune pass reported.
    /// </summary>
    private static HashSet<string>? NotPruned(IReadOnlyList<PassReport>? reports)
    {
        PassReport[] pruning = [.. (reports ?? []).Where(r => r.Pass is MagnitudePruning.PassName or StructuredPruning.PassName)];
        if (pruning.Length == 0)
        {
            return null;
        }

        var skipped = new HashSet<string>(pruning[0].SkippedNodes.Select(s => s.Node), StringComparer.Ordinal);
        foreach (PassReport report in pruning.Skip(1))
        {
            skipped.IntersectWith(report.SkippedNodes.Select(s => s.Node));
        }

        return skipped;
    }

    /// <summary>Runs <paramref name="passes"/> on a copy of <paramref name="original"/>, as the pipeline does.</summary>
    public static (ModelProto Model, IReadOnlyList<PassReport> Reports) RunPasses(ModelProto original, IReadOnlyList<PassSpec> passes, PassRunContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(passes);
        ModelProto copy = original.Clone();
        var reports = new List<PassReport>();
        foreach (PassSpec pass in passes)
        {
            reports.AddRange(PassRunner.Run(copy, pass, context ?? PassRunContext.None));
        }

        return (copy, reports);
    }

    private static (ModelProto Model, IReadOnlyList<PassReport> Reports, EvaluationResult Result) Run(
        ModelProto original, IReadOnlyList<PassSpec> passes, IReadOnlyCollection<string> excluded, EvaluationReference reference, PassRunContext context)
    {
        (ModelProto model, IReadOnlyList<PassReport> reports) = RunPasses(original, [.. passes.Select(p => PassExclusion.WithExcluded(p, excluded))], context);
        return (model, reports, reference.Evaluate(model));
    }
}
