using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>Turns a pass entry of the spec into a call of the pass that implements it.</summary>
internal static class PassRunner
{
    public static PassReport Run(ModelProto model, PassSpec pass) => pass switch
    {
        QuantizePassSpec { Mode: QuantizationMode.Dynamic } quantize => DynamicQuantization.Run(model, ToOptions(quantize)),
        _ => throw new CompressException(pass.Location.Error(
            DiagnosticCodes.NotSupportedInThisVersion,
            $"The '{pass.Kind}' pass with these options is not supported by this version of Compress.")),
    };

    private static DynamicQuantizationOptions ToOptions(QuantizePassSpec spec) => new()
    {
        PerChannel = spec.PerChannel,
        ReduceRange = spec.ReduceRange,
        WeightType = spec.WeightType,
        OpTypesToQuantize = spec.OpTypesToQuantize,
        NodesToQuantize = spec.NodesToQuantize,
        NodesToExclude = spec.NodesToExclude,
    };
}
