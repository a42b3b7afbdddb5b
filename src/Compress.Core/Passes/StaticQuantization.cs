using Compress.Core.Calibration;
using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes.Qdq;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Static int8 quantization with calibrated activation ranges, placed like
/// onnxruntime.quantization.quantize_static so that ONNX Runtime fuses the result into integer
/// kernels (QLinearConv, QLinearMatMul, QGemm, QLinearAdd…).
/// </summary>
/// <remarks>
/// QDQ form: every quantized activation tensor T gets QuantizeLinear → DequantizeLinear right after
/// its producer (the producer now writes T_prequant, the DequantizeLinear writes T, so every reader
/// and graph output sees the quantized value); weights become int8 initializers read through a
/// DequantizeLinear (per-channel axis 0 for Conv, 1 for ConvTranspose and MatMul [K,N], by transB
/// for Gemm); Conv/Gemm bias becomes int32 with scale x_scale·w_scale. Conv/MatMul/Gemm outputs are
/// always quantized (a float output behind a QDQ MatMul is the slow unfused trap). Data-movement ops
/// reuse their input's parameters so ORT drops their Q/DQ; Relu/Clip right after a quantized node
/// are folded into that node's output range (asymmetric activations only). A Conv that ORT's integer
/// kernels run slower than float (<see cref="IntegerConvKernels"/>: depthwise with a channel count
/// that is not a multiple of 16) is left in float with a skip reason. QOperator form is the
/// same placement rewritten into integer operators (<see cref="QOperatorConverter"/>).
/// Models below opset 13 are upgraded to 13 when <see cref="OpsetUpgrade"/> knows every op present.
/// </remarks>
public static class StaticQuantization
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "static_quantization";

    private const int RequiredOpset = 13;

    /// <summary>Quantizes <paramref name="model"/> in place using the calibrated <paramref name="ranges"/> (by tensor name).</summary>
    /// <returns>What was quantized and what was skipped, with reasons.</returns>
    public static PassReport Run(ModelProto model, IReadOnlyDictionary<string, TensorRange> ranges, StaticQuantizationOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ActivationType == QuantType.QInt8 && options.WeightType == QuantType.QUInt8)
        {
            throw new ArgumentException("ActivationType QInt8 with WeightType QUInt8 is not supported (as in onnxruntime.quantization).", nameof(options));
        }

        var report = new PassReport(PassName);
        var before = new ModelGraph(model);
        HashSet<string> unreadBefore = OrphanedConstants.Find(before);
        bool perChannelAllowed = true;
        bool int8MaxPool = true;
        long opset = before.OpsetVersion(ModelGraph.DefaultDomain);
        if (opset < RequiredOpset)
        {
            OpsetUpgradeResult upgrade = OpsetUpgrade.Upgrade(model, RequiredOpset);
            if (upgrade.Upgraded)
            {
                report.AddNote($"upgraded ai.onnx opset {opset} -> {RequiredOpset}{(upgrade.Changes.Count > 0 ? ": " + string.Join("; ", upgrade.Changes) : string.Empty)}");
            }
            else if (opset >= 10)
            {
                perChannelAllowed = false;
                int8MaxPool = opset >= 12;
                report.AddNote($"kept opset {opset} (cannot upgrade to {RequiredOpset}: {upgrade.Reason}); weights per tensor{(int8MaxPool ? string.Empty : ", MaxPool left in float")}");
            }
            else
            {
                report.AddNote($"model left unquantized: QuantizeLinear needs opset >= 10, the model has {opset} and cannot be upgraded ({upgrade.Reason})");
                return report;
            }
        }

        var graph = new ModelGraph(model);
        var run = new StaticQuantizationRun(graph, ranges, options, report, perChannelAllowed, int8MaxPool);
        run.Execute();
        if (options.QuantFormat == StaticQuantFormat.QOperator && report.NodesQuantized > 0)
        {
            int converted = QOperatorConverter.Convert(graph);
            report.AddNote($"QOperator: {converted} node group(s) rewritten into integer operators");
        }

        report.ConstantsRemoved += OrphanedConstants.Remove(graph, unreadBefore);

        if (report.NodesQuantized > 0)
        {
            report.AddNote(string.Create(
                CultureInfo.InvariantCulture,
                $"activations {options.ActivationType}{(options.ActivationSymmetric ? " symmetric" : string.Empty)}, weights {options.WeightType} {(options.PerChannel && perChannelAllowed ? "per-channel" : "per-tensor")}{(options.ReduceRange ? " reduce_range" : string.Empty)}, format {options.QuantFormat}"));
        }

        return report;
    }
}
