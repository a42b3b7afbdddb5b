using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Passes;

/// <summary>Reads ORT's optimized graph to check that quantized Conv/MatMul/Gemm became integer kernels.</summary>
internal static class StaticFusion
{
    public static readonly string[] IntegerKernels = ["QLinearConv", "QLinearMatMul", "QGemm", "MatMulIntegerToFloat", "QLinearConvTranspose", "ConvInteger", "MatMulInteger"];

    public static readonly string[] FloatKernels = ["Conv", "MatMul", "Gemm", "ConvTranspose", "FusedConv", "FusedGemm", "FusedMatMul"];

    /// <summary>Op type counts of every graph ORT would run after ORT_ENABLE_EXTENDED.</summary>
    public static Dictionary<string, int> OptimizedOpCounts(ModelProto model)
    {
        ModelProto optimized = OrtRunner.OptimizedGraph(model);
        return new ModelGraph(optimized).AllNodes().GroupBy(n => n.Node.OpType).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>Asserts <paramref name="expected"/> integer kernels and exactly <paramref name="floatLayers"/> float Conv/MatMul/Gemm (the layers left in float).</summary>
    public static void AssertAllFused(ModelProto model, int expected, int floatLayers = 0)
    {
        Dictionary<string, int> ops = OptimizedOpCounts(model);
        string summary = string.Join(", ", ops.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        Assert.That(IntegerKernels.Sum(k => ops.GetValueOrDefault(k)), Is.EqualTo(expected), summary);
        Assert.That(FloatKernels.Sum(k => ops.GetValueOrDefault(k)), Is.EqualTo(floatLayers), summary);
    }
}
