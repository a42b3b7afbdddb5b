using System.Diagnostics;
using System.Globalization;

namespace Compress.Runtime.Bench;

/// <summary>
/// A Stopwatch harness that alternates the three calls of <see cref="SteadyStateLatency"/> round by round, so
/// that load from other processes on a shared machine hits raw ORT and Compress.Runtime alike; reports the
/// median time per call over the rounds, the ratio to raw ORT, and managed bytes allocated per call.
/// </summary>
internal static class InterleavedHarness
{
    private const int WarmUpRounds = 5;

    public static void Run(int rounds, TextWriter output)
    {
        output.WriteLine($"Interleaved harness: {rounds} rounds per case (after {WarmUpRounds} warm-up rounds), ~50 ms per method per round, median of rounds.");
        output.WriteLine();
        output.WriteLine("| case | call | median per call | ratio to raw ORT | allocated per call |");
        output.WriteLine("|---|---|---:|---:|---:|");
        foreach (BenchCase benchCase in Enum.GetValues<BenchCase>())
        {
            var bench = new SteadyStateLatency { Case = benchCase };
            bench.Setup();
            try
            {
                (string Name, Action Call)[] calls =
                [
                    ("raw ORT Run(OrtValue in/out)", bench.RawOrt),
                    ("CompressedModel.Run(span, shape, span)", bench.CompressedSpan),
                    ("CompressedModel.Run(span, shape) -> ModelOutput", () => bench.CompressedModelOutput()),
                ];
                int callsPerRound = CallsForAbout(TimeSpan.FromMilliseconds(50), bench.RawOrt);
                var seconds = calls.Select(_ => new List<double>()).ToArray();
                var allocated = new long[calls.Length];
                for (int round = -WarmUpRounds; round < rounds; round++)
                {
                    for (int c = 0; c < calls.Length; c++)
                    {
                        // Rotate the order each round so no call always follows the same one.
                        int which = (c + Math.Max(round, 0)) % calls.Length;
                        long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
                        long start = Stopwatch.GetTimestamp();
                        for (int i = 0; i < callsPerRound; i++)
                        {
                            calls[which].Call();
                        }

                        double elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
                        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
                        if (round >= 0)
                        {
                            seconds[which].Add(elapsed / callsPerRound);
                            allocated[which] += bytes;
                        }
                    }
                }

                double raw = Median(seconds[0]);
                for (int c = 0; c < calls.Length; c++)
                {
                    double median = Median(seconds[c]);
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {benchCase} | {calls[c].Name} | {median * 1e6:F2} us | {median / raw:F3} | {allocated[c] / (double)(rounds * callsPerRound):F1} B |"));
                }
            }
            finally
            {
                bench.Cleanup();
            }
        }
    }

    private static int CallsForAbout(TimeSpan target, Action call)
    {
        for (int i = 0; i < 20; i++)
        {
            call();
        }

        long start = Stopwatch.GetTimestamp();
        int n = 0;
        while (Stopwatch.GetElapsedTime(start) < target / 5)
        {
            call();
            n++;
        }

        return Math.Max(1, n * 5);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int mid = values.Count / 2;
        return values.Count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
