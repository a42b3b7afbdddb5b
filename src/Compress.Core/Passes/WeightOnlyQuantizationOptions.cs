using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Options of <see cref="WeightOnlyQuantization"/>, named after onnxruntime.quantization's
/// DefaultWeightOnlyQuantConfig (block_size, is_symmetric, accuracy_level, bits).
/// </summary>
public sealed class WeightOnlyQuantizationOptions
{
    /// <summary>The smallest block size ONNX Runtime's MatMulNBits accepts.</summary>
    public const int MinBlockSize = 16;

    /// <summary>The largest block size this pass writes.</summary>
    public const int MaxBlockSize = 256;

    /// <summary>Bits per weight: 4 (two weights per byte) or 8.</summary>
    public int Bits { get; init; } = 4;

    /// <summary>Weights along K quantized together with one scale (and zero point); a power of two in 16..256.</summary>
    public int BlockSize { get; init; } = 32;

    /// <summary>
    /// True: no zero points (ONNX Runtime uses the implicit mid value 8 for 4 bits, 128 for 8 bits).
    /// False: one zero point per block, stored packed.
    /// </summary>
    public bool Symmetric { get; init; } = true;

    /// <summary>
    /// MatMulNBits <c>accuracy_level</c> (0..4; 4 = int8 activations with int32 accumulation);
    /// null leaves the attribute out, as the reference quantizer does for 0/None.
    /// </summary>
    public int? AccuracyLevel { get; init; }

    /// <summary>How block scales are stored: float16 where they fit (default), always float32, or always float16.</summary>
    public WeightScaleType ScaleType { get; init; } = WeightScaleType.Auto;

    /// <summary>Operators to quantize: MatMul and Gemm (MatMulNBits), Conv (int8 weights per output channel).</summary>
    public IReadOnlyList<string> OpTypesToQuantize { get; init; } = ["MatMul", "Gemm", "Conv"];

    /// <summary>Node-name globs (<c>*</c>, <c>?</c>) of nodes to leave in float.</summary>
    public IReadOnlyList<string> NodesToExclude { get; init; } = [];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a value is outside what MatMulNBits accepts.</summary>
    public void Validate()
    {
        if (Bits is not (4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(Bits), Bits, "bits must be 4 or 8.");
        }

        if (BlockSize is < MinBlockSize or > MaxBlockSize || (BlockSize & (BlockSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BlockSize), BlockSize, $"block_size must be a power of two from {MinBlockSize} to {MaxBlockSize}.");
        }

        if (AccuracyLevel is < 0 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(AccuracyLevel), AccuracyLevel, "accuracy_level must be 0..4.");
        }
    }
}
