using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Packing;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;
using Google.Protobuf;

namespace Compress.Core.Tests.Pruning;

/// <summary>Pruning, int8 and Brotli together: the shipped file against the fp32 file.</summary>
public class PackedSizeTests
{
    // Measured on digits-mlp (the harder one: few weights, so the fixed part weighs more): per-layer 80% +
    // reconstruction + int8 gives 8.27%; one global ranking (sparser big layers) and
    // 7-bit weight codes (reduce_range) reach 7.46% with top-1 0.9644; per-channel scales cost ~1 point of ratio.
    [TestCase("digits-mlp")]
    [TestCase("fashion-cnn")]
    public void EightyPercentSparseInt8BrotliIsAtMostEightPercentOfFloat(string name)
    {
        long floatBytes = new FileInfo(SharedMaterial.ModelPath(name)).Length;
        ModelProto model = SharedMaterial.LoadModel(name);
        ModelProto original = model.Clone();
        MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.8, Scope = MagnitudePruningScope.Global });
        Reconstruction.Run(model, ReconstructionTeacher.Of(model)!, PruningMaterial.Calibration(model, name), new ReconstructionOptions());
        DynamicQuantization.Run(model, new DynamicQuantizationOptions { OpTypesToQuantize = ["MatMul", "Gemm", "Conv"], ReduceRange = true });
        byte[] onnx = OnnxModelFile.ToBytes(model);

        byte[] packed = BrotliPacker.Compress(onnx);

        Assert.That(BrotliPacker.Decompress(packed), Is.EqualTo(onnx), "lossless");
        Assert.That(BrotliPacker.Compress(onnx), Is.EqualTo(packed), "deterministic");
        double ratio = packed.Length / (double)floatBytes;
        double fp32 = PruningMaterial.Accuracy(original, name);
        double shipped = PruningMaterial.Accuracy(ModelProto.Parser.ParseFrom(BrotliPacker.Decompress(packed)), name);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: fp32 {floatBytes} B, 80% sparse + reconstruction + int8 {onnx.Length} B, + Brotli {packed.Length} B = {ratio:P2} of fp32; top-1 fp32 {fp32:F4}, shipped {shipped:F4}"));
        Assert.That(ratio, Is.LessThanOrEqualTo(0.08));
        Assert.That(shipped, Is.GreaterThanOrEqualTo(fp32 - 0.03), "still close to the fp32 accuracy");
        Assert.That(onnx.Length, Is.GreaterThan(packed.Length * 2), "the zeros compress");
    }
}
