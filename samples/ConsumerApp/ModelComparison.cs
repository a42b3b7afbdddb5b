using System.Diagnostics;
using Compress.Runtime;
using Compress.Runtime.Data;

namespace ConsumerApp;

/// <summary>Runs an original model and its compressed twin on the same test set.</summary>
internal static class ModelComparison
{
    private const int TimedRuns = 9;

    public static ComparisonResult Run(ModelPair pair, string sharedDirectory, string compressedDirectory)
    {
        string originalPath = Path.Combine(sharedDirectory, "models", pair.OriginalName + ".onnx");
        string compressedPath = Path.Combine(compressedDirectory, pair.CompressedName + ".onnx");
        NpyArray inputs = NpyArray.Load(Path.Combine(sharedDirectory, "data", pair.InputsFile));
        long[] labels = NpyArray.Load(Path.Combine(sharedDirectory, "data", pair.LabelsFile)).ToInt64Array();
        float[] data = inputs.ToSingleArray();
        long[] shape = [.. inputs.Shape];

        using CompressedModel original = CompressedModel.Load(originalPath);
        using CompressedModel compressed = CompressedModel.Load(compressedPath);
        int[] originalTop1 = Top1(original.Run(data, shape));
        int[] compressedTop1 = Top1(compressed.Run(data, shape));

        return new ComparisonResult(
            pair,
            new FileInfo(originalPath).Length,
            new FileInfo(compressedPath).Length,
            Fraction(originalTop1, labels),
            Fraction(compressedTop1, labels),
            Fraction(compressedTop1, originalTop1.Select(c => (long)c).ToArray()),
            MedianMilliseconds(original, data, shape),
            MedianMilliseconds(compressed, data, shape));
    }

    private static int[] Top1(ModelOutput output)
    {
        ReadOnlySpan<float> logits = output.AsSpan<float>();
        int classes = (int)output.Shape[^1];
        var top1 = new int[logits.Length / classes];
        for (int row = 0; row < top1.Length; row++)
        {
            ReadOnlySpan<float> scores = logits.Slice(row * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++)
            {
                if (scores[c] > scores[best])
                {
                    best = c;
                }
            }

            top1[row] = best;
        }

        return top1;
    }

    private static double Fraction(int[] predicted, long[] expected) =>
        (double)predicted.Where((p, i) => p == expected[i]).Count() / predicted.Length;

    /// <summary>Median wall time of one pass over the whole test set, after a warm-up run.</summary>
    private static double MedianMilliseconds(CompressedModel model, float[] data, long[] shape)
    {
        model.Run(data, shape);
        var times = new double[TimedRuns];
        for (int i = 0; i < TimedRuns; i++)
        {
            long start = Stopwatch.GetTimestamp();
            model.Run(data, shape);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[TimedRuns / 2];
    }
}
