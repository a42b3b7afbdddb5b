using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// Turns a pass entry of the spec into calls of the passes that implement it. Public so tools that
/// build specs in code (benchmarks, tests) run passes exactly as a build does.
/// </summary>
public static class PassRunner
{
    /// <summary>Runs one spec entry; static quantization adds the clean-up it needs as its own report.</summary>
    public static IReadOnlyList<PassReport> Run(ModelProto model, PassSpec pass) => Run(model, pass, PassRunContext.None);

    /// <summary>Runs one spec entry, reporting calibration progress and reusing calibrations through <paramref name="context"/>.</summary>
    public static IReadOnlyList<PassReport> Run(ModelProto model, PassSpec pass, PassRunContext context) => pass switch
    {
        QuantizePassSpec { Mode: QuantizationMode.Dynamic } quantize => [DynamicQuantization.Run(model, ToDynamicOptions(quantize))],
        QuantizePassSpec { Mode: QuantizationMode.Static } quantize => RunStatic(model, quantize, context),
        QuantizePassSpec { Mode: QuantizationMode.WeightOnly } quantize => [WeightOnlyQuantization.Run(model, ToWeightOnlyOptions(quantize))],
        Float16PassSpec float16 => [Float16Conversion.Run(model, ToFloat16Options(float16))],
        CleanupPassSpec cleanup => [GraphCleanup.Run(model, ToCleanupOptions(cleanup))],
        PrunePassSpec prune => [ReconstructionPassRunner.RunPrune(model, prune, context.PruningCurves)],
        ReconstructPassSpec reconstruct => [ReconstructionPassRunner.RunReconstruct(model, reconstruct)],
        _ => throw new CompressException(pass.Location.Error(
            DiagnosticCodes.NotSupportedInThisVersion,
            $"The '{pass.Kind}' pass with these options is not supported by this version of Compress.")),
    };

    /// <summary>
    /// Static quantization needs a clean graph (BatchNorm folded into Conv, no Identity/Dropout between
    /// quantizable nodes) and activation ranges; both happen here so users need no separate step. Hard-swish
    /// stays spelled out: as QLinearAdd/QLinearMul it ran faster (ocr-cls 15.5 ms) than as a float HardSigmoid
    /// between DequantizeLinear and QuantizeLinear (16.2 ms); static quantization fuses the ones it leaves in float.
    /// </summary>
    private static PassReport[] RunStatic(ModelProto model, QuantizePassSpec spec, PassRunContext context)
    {
        CalibrationSpec calibration = spec.Calibration ?? throw new CompressException(spec.Location.Error(
            DiagnosticCodes.MissingKey, "Static quantization needs a 'calibration' block with the data to calibrate on."));
        PassReport cleanup = GraphCleanup.Run(model, new GraphCleanupOptions { FuseHardSwish = false });

        CalibrationResult Calibrate()
        {
            CalibrationDataSet data = CalibrationDataSet.Open(calibration.ExpandDataPaths(), model, calibration.Samples);
            return Calibrator.Calibrate(model, data, new CalibrationOptions
            {
                Method = calibration.Method,
                MaxSamples = calibration.Samples,
                BatchSize = calibration.BatchSize,
                MovingAverage = calibration.MovingAverage,
                MovingAverageConstant = calibration.MovingAverageConstant,
                Percentile = calibration.Percentile,
                SymmetricRange = calibration.SymmetricRange,
                Progress = context.Progress is { } progress ? new CalibrationProgressReporter(progress) : null,
            });
        }

        CalibrationResult ranges = context.Calibrations is { } memo ? memo.GetOrCalibrate(calibration, model, Calibrate) : Calibrate();

        PassReport quantized = StaticQuantization.Run(model, ranges.Ranges, ToStaticOptions(spec));
        quantized.AddNote($"calibrated with {ranges.Method} on {ranges.SamplesUsed} samples in {ranges.BatchesRun} batches " +
            $"({ranges.Ranges.Count} tensors with ranges, {ranges.Uncalibrated.Count} without)");
        foreach (IGrouping<UncalibratedReason, UncalibratedTensor> group in ranges.Uncalibrated.GroupBy(u => u.Reason))
        {
            quantized.AddNote($"{group.Count()} tensors without calibration range: {group.Key}");
        }

        return [cleanup, quantized];
    }

    private static DynamicQuantizationOptions ToDynamicOptions(QuantizePassSpec spec) => new()
    {
        PerChannel = spec.PerChannel,
        ReduceRange = spec.ReduceRange,
        WeightType = spec.WeightType,
        OpTypesToQuantize = spec.OpTypesToQuantize,
        NodesToQuantize = spec.NodesToQuantize,
        NodesToExclude = spec.NodesToExclude,
    };

    private static StaticQuantizationOptions ToStaticOptions(QuantizePassSpec spec) => new()
    {
        QuantFormat = spec.QuantFormat == QuantFormat.QOperator ? StaticQuantFormat.QOperator : StaticQuantFormat.QDQ,
        ActivationType = spec.ActivationType,
        WeightType = spec.WeightType,
        PerChannel = spec.PerChannel,
        ReduceRange = spec.ReduceRange,
        ActivationSymmetric = spec.ActivationSymmetric,
        WeightSymmetric = spec.WeightSymmetric,
        OpTypesToQuantize = spec.OpTypesToQuantize,
        NodesToQuantize = spec.NodesToQuantize,
        NodesToExclude = spec.NodesToExclude,
        QuantizeBias = spec.QuantizeBias,
        MinimumRealRange = spec.MinimumRealRange,
        ForceQuantizeNoInputCheck = spec.ForceQuantizeNoInputCheck,
        NodeOverrides = [.. spec.NodeOverrides.Select(o => new StaticNodeOverride
        {
            Node = o.Nodes,
            Exclude = o.Exclude ?? false,
            ActivationType = o.ActivationType,
            WeightType = o.WeightType,
            PerChannel = o.PerChannel,
        })],
    };

    private static WeightOnlyQuantizationOptions ToWeightOnlyOptions(QuantizePassSpec spec) => new()
    {
        Bits = spec.Bits,
        BlockSize = spec.BlockSize,
        Symmetric = spec.Symmetric,
        AccuracyLevel = spec.AccuracyLevel,
        ScaleType = spec.ScaleType,
        OpTypesToQuantize = spec.OpTypesToQuantize,
        NodesToExclude = spec.NodesToExclude,
    };

    private static Float16ConversionOptions ToFloat16Options(Float16PassSpec spec) => new()
    {
        KeepIoTypes = spec.KeepIoTypes,
        OpBlockList = spec.OpBlockList,
        NodeBlockList = spec.NodeBlockList,
    };

    private static GraphCleanupOptions ToCleanupOptions(CleanupPassSpec spec) => new()
    {
        RemoveIdentity = spec.RemoveIdentity,
        RemoveDropout = spec.RemoveDropout,
        RemoveDeadNodes = spec.RemoveDeadNodes,
        FoldBatchNormalization = spec.FoldBatchNorm,
        FoldConstants = spec.FoldConstants,
        FuseHardSwish = spec.FuseHardSwish,
    };

    /// <summary>Forwards calibration batches to the model's progress (synchronously, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class CalibrationProgressReporter(ModelProgress progress) : IProgress<CalibrationProgress>
    {
        public void Report(CalibrationProgress value) => progress.Report("calibrating", value.SamplesDone, value.SamplesTotal);
    }
}
