using System.Numerics.Tensors;

namespace Compress.Core.Calibration;

/// <summary>Minimum and maximum of a span, ignoring NaN (numpy nanmin / nanmax).</summary>
internal static class ValueExtremes
{
    /// <summary>False when the span holds no value that is not NaN.</summary>
    public static bool TryGet(ReadOnlySpan<float> values, out float min, out float max)
    {
        min = float.NaN;
        max = float.NaN;
        if (values.IsEmpty)
        {
            return false;
        }

        // The vectorized path propagates NaN; only then is the slow NaN-skipping loop needed.
        min = TensorPrimitives.Min(values);
        max = TensorPrimitives.Max(values);
        if (!float.IsNaN(min) && !float.IsNaN(max))
        {
            return true;
        }

        min = float.PositiveInfinity;
        max = float.NegativeInfinity;
        bool any = false;
        foreach (float v in values)
        {
            if (float.IsNaN(v))
            {
                continue;
            }

            any = true;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }

        return any;
    }
}
