using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Quantization.Bench;

/// <summary>
/// Median latency of several sessions measured in interleaved rounds, so machine noise (shared,
/// 2 cores) hits every variant alike and the ratios stay meaningful.
/// </summary>
internal static class Latency
{
    public static double[] MedianMilliseconds(IReadOnlyList<InferenceSession> sessions, IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, int rounds, int runsPerRound)
    {
        var samples = sessions.Select(_ => new List<double>()).ToArray();
        using var options = new RunOptions();
        string[][] outputNames = [.. sessions.Select(s => s.OutputNames.ToArray())];
        IDisposable Run(int s) => sessions[s].Run(options, inputNames, inputs, outputNames[s]);
        for (int s = 0; s < sessions.Count; s++)
        {
            for (int w = 0; w < 3; w++)
            {
                using IDisposable warm = Run(s);
            }
        }

        for (int round = 0; round < rounds; round++)
        {
            for (int s = 0; s < sessions.Count; s++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int r = 0; r < runsPerRound; r++)
                {
                    using IDisposable outputs = Run(s);
                }

                samples[s].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / runsPerRound);
            }
        }

        return samples.Select(Median).ToArray();
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
