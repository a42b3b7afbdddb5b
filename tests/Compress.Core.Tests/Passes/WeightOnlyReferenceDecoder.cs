using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// Decodes a com.microsoft MatMulNBits node back to float, written from the contrib operator spec
/// independently of the pass: B [N, blocks, blob] uint8 with codes packed low bits first along K,
/// scales [N·blocks], zero points packed per column (or the implicit 2^(bits−1) when absent);
/// value = (code − zero point) · scale.
/// </summary>
internal static class WeightOnlyReferenceDecoder
{
    /// <summary>One decoded weight: [K,N] values, and for every element its block's scale and zero point.</summary>
    public sealed record Decoded(int K, int N, int Bits, int BlockSize, float[] ValuesKn, float[] ScaleKn, int[] ZeroPointKn, byte[] Packed);

    public static Decoded Decode(GraphScope scope, NodeProto node)
    {
        int k = checked((int)Attribute(node, "K"));
        int n = checked((int)Attribute(node, "N"));
        int bits = checked((int)Attribute(node, "bits"));
        int blockSize = checked((int)Attribute(node, "block_size"));
        TensorProto b = Constant(scope, node.Input[1]);
        float[] scales = TensorData.ReadFloats(Scales(scope, node.Input[2]));
        byte[]? zeroPoints = node.Input.Count > 3 && node.Input[3].Length > 0 ? Constant(scope, node.Input[3]).RawData.ToByteArray() : null;
        int blocks = (k + blockSize - 1) / blockSize;
        int blob = blockSize * bits / 8;
        Assert.That(b.Dims, Is.EqualTo(new long[] { n, blocks, blob }), "B shape [N, blocks, blob]");
        Assert.That(scales, Has.Length.EqualTo(n * blocks), "scales length N·blocks");
        byte[] packed = b.RawData.ToByteArray();
        int zeroPointBytesPerColumn = ((blocks * bits) + 7) / 8;
        if (zeroPoints is not null)
        {
            Assert.That(zeroPoints, Has.Length.EqualTo(n * zeroPointBytesPerColumn), "zero points length");
        }

        int mask = (1 << bits) - 1;
        var values = new float[k * n];
        var scaleKn = new float[k * n];
        var zeroPointKn = new int[k * n];
        for (int column = 0; column < n; column++)
        {
            for (int row = 0; row < k; row++)
            {
                int block = row / blockSize;
                int inBlock = row % blockSize;
                int bitOffset = inBlock * bits;
                int code = (packed[(column * blocks * blob) + (block * blob) + (bitOffset / 8)] >> (bitOffset % 8)) & mask;
                int zeroPoint = 1 << (bits - 1);
                if (zeroPoints is not null)
                {
                    int zpBit = block * bits;
                    zeroPoint = (zeroPoints[(column * zeroPointBytesPerColumn) + (zpBit / 8)] >> (zpBit % 8)) & mask;
                }

                float scale = scales[(column * blocks) + block];
                values[(row * n) + column] = (code - zeroPoint) * scale;
                scaleKn[(row * n) + column] = scale;
                zeroPointKn[(row * n) + column] = zeroPoint;
            }
        }

        return new Decoded(k, n, bits, blockSize, values, scaleKn, zeroPointKn, packed);
    }

    private static long Attribute(NodeProto node, string name) =>
        node.Attribute.SingleOrDefault(a => a.Name == name)?.I ?? throw new AssertionException($"MatMulNBits has no attribute {name}");

    /// <summary>The scales constant: read directly (float32), or through the Cast to float32 of a float16 constant.</summary>
    private static TensorProto Scales(GraphScope scope, string name)
    {
        NodeProto? cast = scope.Graph.Node.SingleOrDefault(n => n.OpType == "Cast" && n.Output.Contains(name));
        if (cast is null)
        {
            return Constant(scope, name);
        }

        Assert.That(cast.Attribute.Single(a => a.Name == "to").I, Is.EqualTo((long)TensorProto.Types.DataType.Float), "scales cast to float32");
        TensorProto stored = Constant(scope, cast.Input[0]);
        Assert.That((TensorProto.Types.DataType)stored.DataType, Is.EqualTo(TensorProto.Types.DataType.Float16), "a Cast reads float16 scales");
        return stored;
    }

    private static TensorProto Constant(GraphScope scope, string name) =>
        scope.FindConstant(name)?.Value ?? throw new AssertionException($"'{name}' is not a constant");
}
