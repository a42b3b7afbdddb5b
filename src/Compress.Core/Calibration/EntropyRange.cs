namespace Compress.Core.Calibration;

/// <summary>
/// ORT's HistogramCollector.get_entropy_threshold: for every window of the histogram centred on 0
/// (from the quantized-bin count up to the whole histogram), the window (outliers folded into its end
/// bins) is the reference p, its merge into the quantized bins expanded back is q, and the window whose
/// smoothed KL(p‖q) is smallest gives the range, clipped to the values seen. ORT's quirks are kept:
/// q is an integer array (the expanded averages are truncated) and the last, partial group of a window
/// is added to the last quantized bin but not expanded.
/// </summary>
internal static class EntropyRange
{
    private const float SmoothingEpsilon = 0.0001f;

    public static TensorRange Find(SignedHistogram histogram, int quantizedBins, double min, double max)
    {
        ReadOnlySpan<long> hist = histogram.Counts;
        int bins = hist.Length;
        int zero = bins / 2;
        int halfQuantized = quantizedBins / 2;
        var prefix = new long[bins + 1];
        for (int i = 0; i < bins; i++)
        {
            prefix[i + 1] = prefix[i] + hist[i];
        }

        var p = new long[bins];
        var q = new long[bins];
        var quantized = new long[quantizedBins];
        var pSmooth = new float[bins];
        var qSmooth = new float[bins];
        double best = double.PositiveInfinity;
        (int Start, int End) bestWindow = (zero - halfQuantized, Math.Min(zero + halfQuantized + 1, bins));
        for (int i = halfQuantized; i <= zero; i++)
        {
            int start = zero - i;
            int end = Math.Min(zero + i + 1, bins);
            int length = end - start;
            ReadOnlySpan<long> sliced = hist[start..end];
            Span<long> pw = p.AsSpan(0, length);
            sliced.CopyTo(pw);
            pw[0] += prefix[start];
            pw[^1] += prefix[bins] - prefix[end];

            int merged = length / quantizedBins;
            for (int k = 0; k < quantizedBins; k++)
            {
                quantized[k] = prefix[start + ((k + 1) * merged)] - prefix[start + (k * merged)];
            }

            quantized[^1] += prefix[end] - prefix[start + (quantizedBins * merged)];

            Span<long> qw = q.AsSpan(0, length);
            qw.Clear();
            for (int k = 0; k < quantizedBins; k++)
            {
                int from = k * merged;
                int to = from + merged;
                int nonZero = 0;
                for (int j = from; j < to; j++)
                {
                    nonZero += pw[j] != 0 ? 1 : 0;
                }

                if (nonZero != 0)
                {
                    // numpy assigns the float quotient into an int64 array: truncation.
                    qw[from..to].Fill((long)((double)quantized[k] / nonZero));
                }
            }

            double divergence = Smooth(pw, pSmooth.AsSpan(0, length)) && Smooth(qw, qSmooth.AsSpan(0, length))
                ? KullbackLeibler(pSmooth.AsSpan(0, length), qSmooth.AsSpan(0, length))
                : double.PositiveInfinity;
            if (divergence < best)
            {
                best = divergence;
                bestWindow = (start, end);
            }
        }

        double low = Math.Max(histogram.Edge(bestWindow.Start), min);
        double high = Math.Min(histogram.Edge(bestWindow.End), max);
        return new TensorRange((float)low, (float)high);
    }

    /// <summary>quant_utils.smooth_distribution: zeros become ε, the others lose ε·zeros/nonzeros; false when all are 0.</summary>
    private static bool Smooth(ReadOnlySpan<long> counts, Span<float> smoothed)
    {
        int zeros = 0;
        foreach (long c in counts)
        {
            zeros += c == 0 ? 1 : 0;
        }

        int nonZeros = counts.Length - zeros;
        if (nonZeros == 0)
        {
            return false;
        }

        float eps1 = (float)(SmoothingEpsilon * (double)zeros / nonZeros);
        for (int i = 0; i < counts.Length; i++)
        {
            smoothed[i] = counts[i] == 0 ? SmoothingEpsilon : counts[i] - eps1;
            if (smoothed[i] <= 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>calibrate.entropy: both distributions normalized, Σ p·ln(p/q) (float32 terms, as ORT).</summary>
    private static double KullbackLeibler(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        double pSum = 0;
        double qSum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            pSum += p[i];
            qSum += q[i];
        }

        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            float pk = (float)(p[i] / pSum);
            float qk = (float)(q[i] / qSum);
            sum += pk * MathF.Log(pk / qk);
        }

        return sum;
    }
}
