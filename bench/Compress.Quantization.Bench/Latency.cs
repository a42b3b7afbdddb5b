using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Quantization.Bench;

/// <summary>
/// Median latency of several sessions measured in interleaved rounds, so machine noise (shared,
/// 2 cores) hits every variant alike and the ratios stay meaningful.
/// </summary>
/// <remarks>
/// Each session writes into output tensors created once (the fastest ORT call, and the one
/// Compress.Runtime's span overload makes): allocating outputs on every call adds the same few
/// microseconds to every variant and would pull the ratios of a small model towards 1. A round runs
/// each session for about <see cref="RoundMilliseconds"/>, so a 20 µs model is not timed one call at a time.
/// </remarks>
internal static class Latency
{
    private const double RoundMilliseconds = 20;

    public static double[] MedianMilliseconds(IReadOnlyList<InferenceSession> sessions, IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, int rounds)
    {
        using var options = new RunOptions();
        var bound = sessions.Select(s => BoundOutputs.Create(s, options, inputNames, inputs)).ToArray();
        try
        {
            void Run(int s) => sessions[s].Run(options, inputNames, inputs, bound[s].Names, bound[s].Values);
            var runsPerRound = new int[sessions.Count];
            for (int s = 0; s < sessions.Count; s++)
            {
                long start = Stopwatch.GetTimestamp();
                int warm = 0;
                while (warm < 3 || Stopwatch.GetElapsedTime(start).TotalMilliseconds < RoundMilliseconds)
                {
                    Run(s);
                    warm++;
                }

                runsPerRound[s] = Math.Max(1, (int)(warm * RoundMilliseconds / Stopwatch.GetElapsedTime(start).TotalMilliseconds));
            }

            var samples = sessions.Select(_ => new List<double>()).ToArray();
            for (int round = 0; round < rounds; round++)
            {
                for (int s = 0; s < sessions.Count; s++)
                {
                    long start = Stopwatch.GetTimestamp();
                    for (int r = 0; r < runsPerRound[s]; r++)
                    {
                        Run(s);
                    }

                    samples[s].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / runsPerRound[s]);
                }
            }

            return samples.Select(Median).ToArray();
        }
        finally
        {
            foreach (BoundOutputs b in bound)
            {
                b.Dispose();
            }
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>Output tensors of one session, shaped by a first run and reused by every timed run.</summary>
    private sealed class BoundOutputs(string[] names, OrtValue[] values) : IDisposable
    {
        public string[] Names { get; } = names;

        public OrtValue[] Values { get; } = values;

        public static BoundOutputs Create(InferenceSession session, RunOptions options, IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs)
        {
            string[] names = [.. session.OutputNames];
            using IDisposableReadOnlyCollection<OrtValue> first = session.Run(options, inputNames, inputs, names);
            var values = first.Select(v =>
            {
                OrtTensorTypeAndShapeInfo info = v.GetTensorTypeAndShape();
                return OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, info.ElementDataType, info.Shape);
            }).ToArray();
            return new BoundOutputs(names, values);
        }

        public void Dispose()
        {
            foreach (OrtValue value in Values)
            {
                value.Dispose();
            }
        }
    }
}
