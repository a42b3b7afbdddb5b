using System.Globalization;

namespace Compress.Runtime;

/// <summary>Small helpers for tensor shapes.</summary>
internal static class Shapes
{
    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Shape {Format(shape)} has a negative dimension.", nameof(shape));
            }

            count = checked(count * d);
        }

        return count;
    }

    public static string Format(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(',', parts) + "]";
    }
}
