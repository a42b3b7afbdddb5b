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
        yield return Make("dynamic int8", _ => new QuantizePassSpec { Mode = QuantizationMode.Dynamic, PerChannel = true });
        yield return Make("static int8", model => new QuantizePassSpec
        {
            Mode = QuantizationMode.Static,
            PerChannel = true,
            OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
            Calibration = new CalibrationSpec { DataPaths = [Path.Combine(shared, "data", model.CalibrationData)], Samples = 64 },
        });
        yield return Make("int4 weight-only", _ => new QuantizePassSpec
        {
            Mode = QuantizationMode.WeightOnly,
            Bits = 4,
            BlockSize = 32,
            OpTypesToQuantize = ["MatMul", "Gemm"],
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
    }

    private static VariantRecipe Make(string name, Func<BenchModel, PassSpec> spec) => MakeSchedule(name, model => [spec(model)]);

    /// <summary>Several passes in order, as a spec's pass list; the variant counts when any pass changed nodes.</summary>
    private static VariantRecipe MakeSchedule(string name, Func<BenchModel, PassSpec[]> schedule) => new(name, (proto, model) =>
    {
        IReadOnlyList<PassReport> reports = [.. schedule(model).SelectMany(pass => PassRunner.Run(proto, pass))];
        int changed = reports.Sum(r => r.NodesQuantized + (int)r.Count("layers_pruned"));
        return changed == 0 ? null : new Variant(name, OnnxModelFile.ToBytes(proto), changed);
    });
}
