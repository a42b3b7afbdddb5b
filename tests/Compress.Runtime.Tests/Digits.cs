using Compress.Runtime.Data;

namespace Compress.Runtime.Tests;

/// <summary>The digits MLP and its test set (README: input [batch,64] float32 -> logits [batch,10]).</summary>
internal static class Digits
{
    public const int Features = 64;
    public const int Classes = 10;

    private static readonly Lazy<NpyArray> LazyX = new(() => NpyArray.Load(SharedMaterial.Data("digits_test_x.npy")));
    private static readonly Lazy<NpyArray> LazyY = new(() => NpyArray.Load(SharedMaterial.Data("digits_test_y.npy")));

    public static string ModelPath => SharedMaterial.Model("digits-mlp.onnx");

    public static NpyArray X => LazyX.Value;

    public static long[] Labels => LazyY.Value.ToInt64Array();

    public static int Rows => checked((int)X.SampleCount);

    public static ReadOnlySpan<float> Row(int i) => X.AsSpan<float>().Slice(i * Features, Features);

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Runs every row on its own through the allocation-free overload: [rows * 10] logits.</summary>
    public static float[] RunRowByRow(CompressedModel model)
    {
        var logits = new float[Rows * Classes];
        long[] shape = [1, Features];
        for (int i = 0; i < Rows; i++)
        {
            model.Run(Row(i), shape, logits.AsSpan(i * Classes, Classes));
        }

        return logits;
    }
}
