using Compress.Core.Onnx.Proto;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Passes;

/// <summary>Runs shared models over their test sets (classifiers and Silero) for the Conv/LSTM/clean-up tests.</summary>
internal static class SharedModelRunner
{
    /// <summary>Top-1 class of every sample of a single-input classifier, in batches of 250.</summary>
    public static int[] Top1(ModelProto model, NpyArray x, long? rows = null)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        string input = session.InputNames[0];
        long count = rows ?? x.Shape[0];
        long[] sampleShape = x.Shape.Skip(1).ToArray();
        var result = new List<int>();
        foreach ((float[] data, long n) in Batches(x, count, 250))
        {
            float[] logits = OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { [input] = (data, [n, .. sampleShape]) }, session.OutputNames[0]);
            result.AddRange(OrtRunner.ArgMax(logits, (int)(logits.Length / n)));
        }

        return [.. result];
    }

    /// <summary>The first output of a single-input model for the first <paramref name="rows"/> samples, as one batch.</summary>
    public static float[] Outputs(ModelProto model, NpyArray x, long rows)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        return OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { [session.InputNames[0]] = (Slice(x, 0, rows), [rows, .. x.Shape.Skip(1)]) }, session.OutputNames[0]);
    }

    /// <summary>Silero's speech probability for every step of the npz (16 kHz), steps batched on h/c's axis 1.</summary>
    public static float[] SileroProbabilities(ModelProto model, NpzArchive data, int batch = 250)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        NpyArray input = data["input"], h = data["h"], c = data["c"];
        long steps = input.Shape[0];
        long samples = input.Shape[1];
        var result = new List<float>();
        for (long start = 0; start < steps; start += batch)
        {
            long n = Math.Min(batch, steps - start);
            using var x = OrtValue.CreateTensorValueFromMemory(Slice(input, start, n), [n, samples]);
            using var sr = OrtValue.CreateTensorValueFromMemory(new long[] { 16000 }, []);
            using var hv = OrtValue.CreateTensorValueFromMemory(StateBatch(h, start, n), [2, n, 64]);
            using var cv = OrtValue.CreateTensorValueFromMemory(StateBatch(c, start, n), [2, n, 64]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["input", "sr", "h", "c"], [x, sr, hv, cv], ["output"]);
            result.AddRange(outputs[0].GetTensorDataAsSpan<float>().ToArray());
        }

        return [.. result];
    }

    /// <summary>Silero's metric: the share of steps whose decision (p ≥ 0.5 is speech) matches the label.</summary>
    public static double FrameAccuracy(float[] probabilities, long[] labels) =>
        probabilities.Zip(labels).Count(p => (p.First >= 0.5f ? 1 : 0) == p.Second) / (double)labels.Length;

    /// <summary>Fraction of steps whose speech decision (p ≥ 0.5) is the same in both runs.</summary>
    public static double DecisionAgreement(float[] a, float[] b) =>
        a.Zip(b).Count(p => p.First >= 0.5f == p.Second >= 0.5f) / (double)a.Length;

    /// <summary>The PP-OCRv4 detector's text masks (probability > 0.3), one per 3x640x640 page.</summary>
    public static bool[][] OcrDetTextMasks(ModelProto model, float[] pages)
    {
        const int pageSize = 3 * 640 * 640;
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        var masks = new List<bool[]>();
        for (int offset = 0; offset < pages.Length; offset += pageSize)
        {
            float[] page = pages.AsSpan(offset, pageSize).ToArray();
            float[] map = OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { ["x"] = (page, [1, 3, 640, 640]) }, "sigmoid_0.tmp_0");
            masks.Add([.. map.Select(p => p > 0.3f)]);
        }

        return [.. masks];
    }

    /// <summary>Intersection over union of two masks, page by page.</summary>
    public static double[] Iou(bool[][] a, bool[][] b) =>
        [.. a.Zip(b, (f, q) => f.Zip(q).Count(p => p.First && p.Second) / (double)Math.Max(1, f.Zip(q).Count(p => p.First || p.Second)))];

    public static double Accuracy(int[] predicted, long[] labels) => predicted.Zip(labels).Count(p => p.First == p.Second) / (double)predicted.Length;

    public static float[] Slice(NpyArray array, long start, long count) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(array.SampleBytes(start, count)).ToArray();

    private static IEnumerable<(float[] Data, long Rows)> Batches(NpyArray x, long rows, int batch)
    {
        for (long start = 0; start < rows; start += batch)
        {
            long n = Math.Min(batch, rows - start);
            yield return (Slice(x, start, n), n);
        }
    }

    /// <summary>Rows [start, start+n) of an [N,2,64] state stacked as [2,n,64].</summary>
    private static float[] StateBatch(NpyArray state, long start, long n)
    {
        float[] rows = Slice(state, start, n);
        var result = new float[rows.Length];
        for (long i = 0; i < n; i++)
        {
            for (int layer = 0; layer < 2; layer++)
            {
                Array.Copy(rows, (i * 128) + (layer * 64), result, (layer * n * 64) + (i * 64), 64);
            }
        }

        return result;
    }
}
