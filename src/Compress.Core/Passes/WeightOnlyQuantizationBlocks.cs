using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// A weight matrix quantized block-wise along K in ONNX Runtime's MatMulNBits layout, computed as
/// MLAS's BlockwiseQuantizer (quantize_matmul_4bits / quantize_matmul_8bits) does:
/// B is [N, blocks, blob] uint8 (the weight transposed to [N,K], values packed low bits first),
/// scales are [N·blocks] float, zero points (asymmetric only) are per column packed, each column
/// padded to whole bytes. K not divisible by the block size: the last block covers the remaining
/// rows; its range ignores the padding, whose codes stay 0 (as the reference writes them).
/// </summary>
internal sealed class WeightOnlyQuantizationBlocks
{
    private WeightOnlyQuantizationBlocks(int k, int n, int bits, int blockSize, byte[] packed, float[] scales, byte[]? zeroPoints, bool halfScales, bool scalesFitHalf)
    {
        HalfScales = halfScales;
        ScalesFitHalf = scalesFitHalf;
        K = k;
        N = n;
        Bits = bits;
        BlockSize = blockSize;
        Packed = packed;
        Scales = scales;
        ZeroPoints = zeroPoints;
    }

    public int K { get; }

    public int N { get; }

    public int Bits { get; }

    public int BlockSize { get; }

    /// <summary>Blocks per column: ceil(K / block size).</summary>
    public int BlocksPerColumn => (K + BlockSize - 1) / BlockSize;

    /// <summary>Bytes per block: block size · bits / 8.</summary>
    public int BlobSize => BlockSize * Bits / 8;

    /// <summary>Bytes of zero points per column (blocks packed 8/bits to a byte, rounded up).</summary>
    public int ZeroPointBytesPerColumn => ((BlocksPerColumn * Bits) + 7) / 8;

    public byte[] Packed { get; }

    public float[] Scales { get; }

    /// <summary>True when the scales are float16 values (stored as float16).</summary>
    public bool HalfScales { get; }

    /// <summary>Packed zero points; null for symmetric quantization.</summary>
    public byte[]? ZeroPoints { get; }

    /// <summary>
    /// Quantizes <paramref name="weightNk"/>, the weight as [N,K] row-major (row n = the K weights
    /// that produce output n).
    /// </summary>
    /// <param name="halfScales">Round each scale to float16 before coding the block, so the codes match the float16 scales stored.</param>
    public static WeightOnlyQuantizationBlocks Quantize(float[] weightNk, int k, int n, int bits, int blockSize, bool symmetric, bool halfScales = false)
    {
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        int perByte = 8 / bits;
        int maxCode = (1 << bits) - 1;
        int mid = 1 << (bits - 1);
        int zeroPointBytes = ((blocks * bits) + 7) / 8;
        var packed = new byte[(long)n * blocks * blob];
        var scales = new float[n * blocks];
        byte[]? zeroPoints = symmetric ? null : new byte[n * zeroPointBytes];
        bool scalesFitHalf = true;

        for (int column = 0; column < n; column++)
        {
            int rowOffset = column * k;
            for (int block = 0; block < blocks; block++)
            {
                int start = block * blockSize;
                int end = Math.Min(start + blockSize, k);
                float min = float.MaxValue, max = -float.MaxValue;
                for (int i = start; i < end; i++)
                {
                    float v = weightNk[rowOffset + i];
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }

                (float scale, int zeroPoint) = symmetric ? SymmetricScale(min, max, mid) : AsymmetricScale(min, max, maxCode);
                scalesFitHalf &= FitsHalf(scale);
                if (halfScales)
                {
                    scale = ToHalfScale(scale);
                }

                scales[(column * blocks) + block] = scale;
                if (zeroPoints is not null)
                {
                    int shift = block % perByte * bits;
                    zeroPoints[(column * zeroPointBytes) + (block / perByte)] |= (byte)(zeroPoint << shift);
                }

                float reciprocal = scale != 0f ? 1f / scale : 0f;
                long blobOffset = ((long)column * blocks * blob) + ((long)block * blob);
                for (int i = start; i < end; i++)
                {
                    // roundf (half away from zero) of v/scale + zero point, clamped, as MLAS does.
                    float code = MathF.Round((weightNk[rowOffset + i] * reciprocal) + zeroPoint, MidpointRounding.AwayFromZero);
                    int q = (int)Math.Clamp(code, 0f, maxCode);
                    int index = i - start;
                    packed[blobOffset + (index / perByte)] |= (byte)(q << (index % perByte * bits));
                }
            }
        }

        return new WeightOnlyQuantizationBlocks(k, n, bits, blockSize, packed, scales, zeroPoints, halfScales, scalesFitHalf);
    }

    /// <summary>
    /// The float16 value nearest to <paramref name="scale"/>, kept inside float16's finite non-zero range: a block
    /// of tiny weights gets the smallest subnormal (its codes clamp), a block beyond ±65504·(2^bits/2) the largest.
    /// </summary>
    private static float ToHalfScale(float scale)
    {
        if (scale == 0f)
        {
            return 0f;
        }

        float half = (float)(Half)scale;
        return half == 0f ? (float)Half.Epsilon : float.IsInfinity(half) ? (float)Half.MaxValue : half;
    }

    /// <summary>Signal-to-quantization-noise ratio (dB) of the stored blocks against <paramref name="weightNk"/>, the weight they came from.</summary>
    public double Sqnr(ReadOnlySpan<float> weightNk)
    {
        int perByte = 8 / Bits;
        int mask = (1 << Bits) - 1;
        int mid = 1 << (Bits - 1);
        var sqnr = default(SqnrAccumulator);
        for (int column = 0; column < N; column++)
        {
            for (int block = 0; block < BlocksPerColumn; block++)
            {
                float scale = Scales[(column * BlocksPerColumn) + block];
                int zeroPoint = ZeroPoints is null ? mid : (ZeroPoints[(column * ZeroPointBytesPerColumn) + (block / perByte)] >> (block % perByte * Bits)) & mask;
                long blobOffset = ((long)column * BlocksPerColumn * BlobSize) + ((long)block * BlobSize);
                int start = block * BlockSize;
                int end = Math.Min(start + BlockSize, K);
                for (int i = start; i < end; i++)
                {
                    int index = i - start;
                    int code = (Packed[blobOffset + (index / perByte)] >> (index % perByte * Bits)) & mask;
                    sqnr.Add(weightNk[(column * K) + i], (code - zeroPoint) * scale);
                }
            }
        }

        return sqnr.Decibels;
    }

    /// <summary>
    /// True when every scale, before any rounding to float16, is 0 or a normal float16 magnitude (2^-14 to 65504):
    /// stored as float16 it keeps 11 significant bits, far finer than the 2^bits codes it scales. Subnormal scales
    /// would lose those bits.
    /// </summary>
    public bool ScalesFitHalf { get; }

    private static bool FitsHalf(float scale)
    {
        const float minNormal = 6.1035156e-5f; // 2^-14
        float magnitude = MathF.Abs(scale);
        return magnitude == 0f || (magnitude >= minNormal && magnitude <= (float)Half.MaxValue);
    }

    /// <summary>The packed weight tensor [N, blocks, blob] uint8.</summary>
    public TensorProto WeightTensor(string name) => TensorData.CreateUInt8(name, [N, BlocksPerColumn, BlobSize], Packed);

    /// <summary>The scales [N·blocks] float.</summary>
    public TensorProto ScaleTensor(string name) => HalfScales
        ? TensorData.CreateFloat16(name, [Scales.Length], Scales)
        : TensorData.CreateFloat(name, [Scales.Length], Scales);

    /// <summary>The packed zero points [N·ceil(blocks·bits/8)] uint8 (asymmetric only).</summary>
    public TensorProto ZeroPointTensor(string name)
    {
        byte[] zeroPoints = ZeroPoints ?? throw new InvalidOperationException("Symmetric quantization has no zero points.");
        return TensorData.CreateUInt8(name, [zeroPoints.Length], zeroPoints);
    }

    /// <summary>
    /// MLAS range2scale: the value of larger magnitude maps to code 0 (−mid after the zero point),
    /// so the scale is negative when that value is positive; zero point is the mid code.
    /// </summary>
    private static (float Scale, int ZeroPoint) SymmetricScale(float min, float max, int mid)
    {
        float extreme = MathF.Abs(max) > MathF.Abs(min) ? max : min;
        return (-extreme / mid, mid);
    }

    /// <summary>MLAS range2scalezp: [min(x,0), max(x,0)] over the full code range.</summary>
    private static (float Scale, int ZeroPoint) AsymmetricScale(float min, float max, int maxCode)
    {
        min = Math.Min(min, 0f);
        max = Math.Max(max, 0f);
        float scale = (max - min) / maxCode;
        float zeroPoint = scale != 0f ? 0f - (min / scale) : min;
        int zp = zeroPoint < 0f ? 0 : zeroPoint > maxCode ? maxCode : (int)MathF.Round(zeroPoint, MidpointRounding.AwayFromZero);
        return (scale, zp);
    }
}
