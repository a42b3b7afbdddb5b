using Compress.Core.Diagnostics;

namespace Compress.Core.Evaluation;

/// <summary>Computes <see cref="EvaluationResult"/> from the outputs of the original and the compressed model.</summary>
public static class OutputComparison
{
    /// <summary>Compares <paramref name="candidate"/> with <paramref name="reference"/> (the original), sample by sample.</summary>
    /// <param name="reference">The original model's output.</param>
    /// <param name="candidate">The compressed model's output, same shape.</param>
    /// <param name="labels">Class labels, one per sample, or null.</param>
    /// <param name="topK">k of the top-k accuracy.</param>
    /// <param name="threshold">A one-value output (e.g. a speech probability) predicts class 1 when at least this; a map's mask holds the elements at least this.</param>
    /// <param name="maskIou">Also measure <see cref="EvaluationMetrics.MaskIou"/>.</param>
    /// <exception cref="CompressException">CMP2003 when shapes differ or labels do not fit the output.</exception>
    public static EvaluationResult Compare(CollectedOutput reference, CollectedOutput candidate, IReadOnlyList<long>? labels, int topK, double threshold = 0.5, bool maskIou = false)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        if (reference.SampleCount != candidate.SampleCount || !reference.SampleShape.SequenceEqual(candidate.SampleShape))
        {
            throw new CompressException(
                DiagnosticCodes.EvaluationDataInvalid,
                $"Output '{candidate.Name}' of the compressed model is [{candidate.SampleCount}, {string.Join(", ", candidate.SampleShape)}], but the original's is [{reference.SampleCount}, {string.Join(", ", reference.SampleShape)}].");
        }

        int n = reference.SampleCount;
        bool binary = reference.IsBinary;
        int? classes = reference.IsClassification ? (int)reference.SampleShape[0] : binary ? 2 : null;
        int Predict(ReadOnlySpan<float> sample) => binary ? (sample[0] >= threshold ? 1 : 0) : ArgMax(sample);
        if (labels is not null)
        {
            if (classes is null)
            {
                throw new CompressException(
                    DiagnosticCodes.EvaluationDataInvalid,
                    $"Labels need a [N, classes] output of logits or probabilities or a [N, 1] probability, but output '{reference.Name}' is [N, {string.Join(", ", reference.SampleShape)}]; leave 'labels' out to compare with the original.");
            }

            if (labels.Count < n)
            {
                throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"The labels hold {labels.Count} values, but the data hold {n} samples.");
            }
        }

        int k = binary ? 1 : classes is int c ? Math.Min(topK, c) : topK;
        EvaluationMetrics before = new() { Cosine = 1, MaxAbsError = 0, MeanAbsError = 0, RelativeError = 0, Agreement = classes is null ? null : 1 };
        EvaluationMetrics after = Errors(reference, candidate);
        if (maskIou)
        {
            double[] perSample = MaskIous(reference, candidate, threshold);
            before = before with { MaskIou = 1, MaskIouMin = 1 };
            after = after with
            {
                MaskIou = perSample.Length == 0 ? 1 : perSample.Average(),
                MaskIouMin = perSample.Length == 0 ? 1 : perSample.Min(),
            };
        }

        double? drop = null;
        if (classes is not null)
        {
            int agree = 0, correctBefore = 0, correctAfter = 0, topKBefore = 0, topKAfter = 0;
            for (int i = 0; i < n; i++)
            {
                int expected = Predict(reference.Sample(i));
                int predicted = Predict(candidate.Sample(i));
                agree += expected == predicted ? 1 : 0;
                if (labels is not null)
                {
                    long label = labels[i];
                    correctBefore += expected == label ? 1 : 0;
                    correctAfter += predicted == label ? 1 : 0;
                    topKBefore += (binary ? expected == label : InTopK(reference.Sample(i), label, k)) ? 1 : 0;
                    topKAfter += (binary ? predicted == label : InTopK(candidate.Sample(i), label, k)) ? 1 : 0;
                }
            }

            after = after with { Agreement = Fraction(agree, n) };
            if (labels is not null)
            {
                before = before with { Accuracy = Fraction(correctBefore, n), TopKAccuracy = Fraction(topKBefore, n) };
                after = after with { Accuracy = Fraction(correctAfter, n), TopKAccuracy = Fraction(topKAfter, n) };
                drop = Fraction(correctBefore - correctAfter, n);
            }
            else
            {
                drop = Fraction(n - agree, n);
            }
        }

        return new EvaluationResult
        {
            Output = reference.Name,
            Samples = n,
            HasLabels = labels is not null,
            Classes = classes,
            TopK = k,
            Before = before,
            After = after,
            AccuracyDrop = drop,
        };
    }

    /// <summary>Mean over samples of the cosine similarity of two equally long vectors per sample.</summary>
    public static double MeanCosine(CollectedOutput reference, CollectedOutput candidate)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        double sum = 0;
        for (int i = 0; i < reference.SampleCount; i++)
        {
            sum += Cosine(reference.Sample(i), candidate.Sample(i));
        }

        return reference.SampleCount == 0 ? 1 : sum / reference.SampleCount;
    }

    /// <summary>|A ∩ B| / |A ∪ B| of each sample's masks of elements ≥ <paramref name="threshold"/>; two empty masks agree (1).</summary>
    public static double[] MaskIous(CollectedOutput reference, CollectedOutput candidate, double threshold)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        double[] ious = new double[reference.SampleCount];
        for (int i = 0; i < reference.SampleCount; i++)
        {
            ReadOnlySpan<float> a = reference.Sample(i), b = candidate.Sample(i);
            long both = 0, either = 0;
            for (int j = 0; j < a.Length; j++)
            {
                bool inA = a[j] >= threshold, inB = b[j] >= threshold;
                both += inA && inB ? 1 : 0;
                either += inA || inB ? 1 : 0;
            }

            ious[i] = either == 0 ? 1 : (double)both / either;
        }

        return ious;
    }

    /// <summary>Cosine similarity; two zero vectors are identical (1), one zero vector is unrelated (0).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, normA = 0, normB = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            normA += (double)a[i] * a[i];
            normB += (double)b[i] * b[i];
        }

        if (normA == 0 && normB == 0)
        {
            return 1;
        }

        return normA == 0 || normB == 0 ? 0 : dot / Math.Sqrt(normA * normB);
    }

    /// <summary>Index of the largest value (the first one on ties), as numpy's argmax.</summary>
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

    private static EvaluationMetrics Errors(CollectedOutput reference, CollectedOutput candidate)
    {
        double maxAbs = 0, sumAbs = 0, sumSquaredDiff = 0, sumSquaredRef = 0;
        for (int i = 0; i < reference.Values.Length; i++)
        {
            double r = reference.Values[i], d = candidate.Values[i] - r;
            maxAbs = Math.Max(maxAbs, Math.Abs(d));
            sumAbs += Math.Abs(d);
            sumSquaredDiff += d * d;
            sumSquaredRef += r * r;
        }

        int count = reference.Values.Length;
        return new EvaluationMetrics
        {
            Cosine = MeanCosine(reference, candidate),
            MaxAbsError = maxAbs,
            MeanAbsError = count == 0 ? 0 : sumAbs / count,
            // A zero original would divide by zero; the floor keeps the value finite (JSON has no infinity).
            RelativeError = sumSquaredDiff == 0 ? 0 : Math.Sqrt(sumSquaredDiff / Math.Max(sumSquaredRef, 1e-30)),
        };
    }

    // A label is in the top k when fewer than k classes score strictly higher.
    private static bool InTopK(ReadOnlySpan<float> scores, long label, int k)
    {
        if (label < 0 || label >= scores.Length)
        {
            return false;
        }

        float own = scores[(int)label];
        int higher = 0;
        foreach (float score in scores)
        {
            higher += score > own ? 1 : 0;
        }

        return higher < k;
    }

    private static double Fraction(int count, int total) => total == 0 ? 0 : (double)count / total;
}
