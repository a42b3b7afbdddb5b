using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Spec;

namespace Compress.Quantization.Bench;

/// <summary>
/// The compressed variants measured: each runs a spec pass on a copy of the fp32 model through the
/// same <see cref="PassRunner"/> a build uses (static quantization calibrates on the model's calibration data).
/// </summary>
internal static class Recipes
{
    public static IEnumerable<VariantRecipe> All(string shared)
    {
        // fp32 after graph clean-up alone (BatchNorm folding, hard-swish fusion): what the int8 variants must also beat.
        yield return Make("fp32 clean-up", _ => new CleanupPassSpec());
        yield return Make("dynamic int8", _ => new QuantizePassSpec { Mode = QuantizationMode.Dynamic, PerChannel = true });
        yield return Make("static int8", model => new QuantizePassSpec
        {
            Mode = QuantizationMode.Static,
            PerChannel = true,
            OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
            Calibration = new CalibrationSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)], Samples = 64 },
        });

        // The defaults (per-tensor weights, as onnxruntime.quantization): smaller files, the same kernels.
        yield return Make("static int8, per-tensor", model => new QuantizePassSpec
        {
            Mode = QuantizationMode.Static,
            OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
            Calibration = new CalibrationSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)], Samples = 64 },
        });
        // ocr-det's accuracy recipe (tests/…/StaticQuantizationOcrDetTests): float stem, asymmetric percentile ranges.
        yield return MakeSchedule("static int8, float stem + percentile", model => model.Name != "ocr-det" ? [] :
        [
            new QuantizePassSpec
            {
                Mode = QuantizationMode.Static,
                PerChannel = true,
                OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
                NodesToExclude = OcrDetStem,
                Calibration = new CalibrationSpec
                {
                    DataPaths = [Path.Combine(shared, "data", model.CalibrationData)],
                    Method = CalibrationMethod.Percentile,
                    SymmetricRange = false,
                },
            },
        ]);
        // Silero's tuned form (tests/…/SharedModelTuningTests): tuning for a 0.5-point frame-accuracy budget keeps Conv_151 float.
        yield return MakeSchedule("static int8, tuned (Conv_151 float)", model => model.Name != "silero-vad-v4" ? [] :
        [
            new QuantizePassSpec
            {
                Mode = QuantizationMode.Static,
                PerChannel = true,
                OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
                NodesToExclude = ["Conv_151"],
                Calibration = new CalibrationSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)] },
            },
        ]);
        // Silero's accuracy recipe (tests/…/StaticQuantizationSileroTests): the STFT Conv and the Mul/Add before Log float.
        yield return MakeSchedule("static int8, STFT + log input float", model => model.Name != "silero-vad-v4" ? [] :
        [
            SileroFrontEndFloat(shared, model),
        ]);
        // The same, then dynamic int8 of the LSTMs that static quantization leaves float (most of Silero's weights).
        yield return MakeSchedule("static int8, STFT + log input float, then dynamic int8 LSTM", model => model.Name != "silero-vad-v4" ? [] :
        [
            SileroFrontEndFloat(shared, model),
            new QuantizePassSpec { Mode = QuantizationMode.Dynamic, OpTypesToQuantize = ["LSTM"] },
        ]);
        yield return Make("int4 weight-only", _ => new QuantizePassSpec
        {
            Mode = QuantizationMode.WeightOnly,
            Bits = 4,
            BlockSize = 32,
            OpTypesToQuantize = ["MatMul", "Gemm"],
        });
        yield return Make("int4 weight-only, float32 scales (onnxruntime.quantization's form)", _ => new QuantizePassSpec
        {
            Mode = QuantizationMode.WeightOnly,
            Bits = 4,
            BlockSize = 32,
            ScaleType = WeightScaleType.Float,
            OpTypesToQuantize = ["MatMul", "Gemm"],
        });
        yield return Make("int4 weight-only, int8 Conv weights", _ => new QuantizePassSpec
        {
            Mode = QuantizationMode.WeightOnly,
            Bits = 4,
            BlockSize = 32,
            OpTypesToQuantize = ["MatMul", "Gemm", "Conv"],
        });
        yield return Make("float16", _ => new Float16PassSpec { KeepIoTypes = true });
        foreach (int multiple in new[] { 1, 8, 16 })
        {
            yield return MakeSchedule($"structured 25% (multiple {multiple}) + reconstruct", model =>
            [
                new PrunePassSpec { Method = PruneMethod.Structured, Ratio = 0.25, ChannelMultiple = multiple },
                new ReconstructPassSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)], Samples = 256 },
            ]);
        }

        // The kept channels chosen on the calibration data (the same data reconstruct refits on).
        yield return MakeSchedule("structured 25% (multiple 16, importance activations) + reconstruct", model =>
        [
            new PrunePassSpec
            {
                Method = PruneMethod.Structured,
                Ratio = 0.25,
                Importance = StructuredPruningImportance.Activations,
                DataPaths = [Path.Combine(shared, "data", model.CalibrationData)],
                Samples = 256,
            },
            new ReconstructPassSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)], Samples = 256 },
        ]);
    }

    /// <summary>ocr-det's first four Conv and the hard-swish chains between them (320x320, channel ranges 10–50x apart).</summary>
    private static readonly string[] OcrDetStem =
    [
        "p2o.Conv.0", "p2o.BatchNormalization.0", "p2o.Conv.1", "p2o.Conv.2", "p2o.Conv.3",
        "p2o.Mul.0", "p2o.Mul.2", "p2o.Mul.4", "p2o.Mul.6", "p2o.Mul.8", "p2o.Mul.10", "p2o.Mul.12",
        "p2o.Add.2", "p2o.Add.4", "p2o.Add.6", "p2o.Add.10", "p2o.Add.12", "p2o.Add.14",
        "p2o.Clip.0", "p2o.Clip.2", "p2o.Div.0", "p2o.Div.1",
    ];

    /// <summary>Silero's accuracy recipe: static int8 with the STFT Conv and the Mul/Add before Log left float.</summary>
    private static QuantizePassSpec SileroFrontEndFloat(string shared, BenchModel model) => new()
    {
        Mode = QuantizationMode.Static,
        PerChannel = true,
        OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
        NodesToExclude = ["Conv_73", "Mul_93", "Add_95"],
        Calibration = new CalibrationSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)] },
    };

    private static VariantRecipe Make(string name, Func<BenchModel, PassSpec> spec) => MakeSchedule(name, model => [spec(model)]);

    /// <summary>Several passes in order, as a spec's pass list; the variant counts when any pass changed nodes.</summary>
    private static VariantRecipe MakeSchedule(string name, Func<BenchModel, PassSpec[]> schedule) => new(name, (proto, model) =>
    {
        IReadOnlyList<PassReport> reports = [.. schedule(model).SelectMany(pass => PassRunner.Run(proto, pass))];
        int changed = reports.Sum(r => r.NodesQuantized + (int)r.Count("layers_pruned"));
        bool simplified = reports.Any(r => r.Count(GraphCleanup.NodesAfter) < r.Count(GraphCleanup.NodesBefore));
        return changed == 0 && !simplified ? null : new Variant(name, OnnxModelFile.ToBytes(proto), changed);
    });
}
