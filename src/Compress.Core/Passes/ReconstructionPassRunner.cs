using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>Maps the <c>prune</c> and <c>reconstruct</c> spec entries to the passes (used by the pipeline's pass runner).</summary>
internal static class ReconstructionPassRunner
{
    /// <summary>Runs a <c>prune</c> entry: magnitude or structured.</summary>
    /// <param name="model">The model, pruned in place.</param>
    /// <param name="spec">The spec entry.</param>
    /// <param name="curves">Activation-importance curves of earlier runs on the same original (tuning); null measures afresh.</param>
    public static PassReport RunPrune(ModelProto model, PrunePassSpec spec, StructuredPruningCurveMemo? curves = null) => spec.Method == PruneMethod.Magnitude
        ? MagnitudePruning.Run(model, new MagnitudePruningOptions
        {
            Sparsity = spec.Sparsity,
            Threshold = spec.Threshold,
            Pattern = spec.Pattern,
            Scope = spec.Scope,
            OpTypes = spec.OpTypes,
            NodesToExclude = spec.NodesToExclude,
            ActivationData = spec.Importance == StructuredPruningImportance.Activations ? CalibrationDataSet.Open([.. spec.DataPaths], model, spec.Samples) : null,
        })
        : StructuredPruning.Run(model, new StructuredPruningOptions
        {
            Ratio = spec.Ratio ?? 0.25,
            Norm = spec.Norm,
            ChannelMultiple = spec.ChannelMultiple,
            Scope = spec.Scope,
            ActivationData = spec.Importance == StructuredPruningImportance.Activations ? CalibrationDataSet.Open([.. spec.DataPaths], model, spec.Samples) : null,
            OpTypes = spec.OpTypes,
            NodesToExclude = spec.NodesToExclude,
            Curves = curves,
        });

    /// <summary>Runs a <c>reconstruct</c> entry against the model as it was before the first <c>prune</c> of the run.</summary>
    /// <exception cref="CompressException">CMP0018 at the pass when no prune pass ran before it.</exception>
    public static PassReport RunReconstruct(ModelProto model, ReconstructPassSpec spec)
    {
        ReconstructionTeacher teacher = ReconstructionTeacher.Of(model) ?? throw new CompressException(spec.Location.Error(
            DiagnosticCodes.ConflictingOptions,
            "'reconstruct' refits pruned layers against the original model, so it must come after a 'prune' pass."));
        CalibrationDataSet data = CalibrationDataSet.Open([.. spec.DataPaths], model, spec.Samples);
        return Reconstruction.Run(model, teacher, data, new ReconstructionOptions
        {
            BatchSize = spec.BatchSize,
            Damping = spec.Damping,
            NodesToExclude = spec.NodesToExclude,
        });
    }
}
