using System.Diagnostics;

namespace Compress.Runtime.Tests;

public class SoakTests
{
    private const int Threads = 4;
    private const int RunsPerThread = 10_000;
    private const int WarmUpRunsPerThread = 1_000;

    // Retained managed memory (after a full GC) may differ by this much between the two measurements:
    // NUnit and the test host allocate a little in the background; one leaked object per call would be ≥ 1 MB.
    private const long ManagedBoundBytes = 256 * 1024;

    // Native (anonymous resident) memory may grow by at most this much over the 40,000 measured calls. A leak
    // of the smallest ONNX Runtime object per call (an OrtValue with its tensor, ~150 B) would add ≥ 6 MB;
    // 4 MiB leaves room for allocator noise (glibc arenas per thread, page granularity) after warm-up.
    private const long NativeBoundBytes = 4 * 1024 * 1024;

    // A call that finds every idle bound run taken creates one more (about 600 B, kept for later calls); that
    // can happen a few times while threads race, never per call (a per-call allocation would be ≥ 40,000 x 24 B).
    private const long AllocationBoundBytes = 8 * 1024;

    [Test]
    [MaxTime(60_000)] // the issue: this soak must finish within 60 s on 2 cores
    public void FourThreadsTimesTenThousandRunsMatchSingleThreadedResultsWithoutMemoryGrowth()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        float[] expected = Digits.RunRowByRow(model);
        var mismatches = new int[Threads];
        var allocated = new long[Threads];
        Exception? failure = null;

        // Phases: warm up -> (main measures) -> measured runs.
        using var phase = new Barrier(Threads + 1);
        Thread[] threads = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                var logits = new float[Digits.Classes];
                long[] shape = [1, Digits.Features];
                for (int i = 0; i < WarmUpRunsPerThread; i++)
                {
                    model.Run(Digits.Row((t + i) % Digits.Rows), shape, logits);
                }

                phase.SignalAndWait();
                phase.SignalAndWait();
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < RunsPerThread; i++)
                {
                    int row = ((t * 97) + i) % Digits.Rows;
                    model.Run(Digits.Row(row), shape, logits);
                    if (!logits.AsSpan().SequenceEqual(expected.AsSpan(row * Digits.Classes, Digits.Classes)))
                    {
                        mismatches[t]++;
                    }
                }

                allocated[t] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            catch (Exception e)
            {
                failure = e;
                phase.RemoveParticipant();
            }
        }))];

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        phase.SignalAndWait();
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long nativeBefore = AnonymousResidentBytes();
        var watch = Stopwatch.StartNew();
        phase.SignalAndWait();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        watch.Stop();
        long managedAfter = GC.GetTotalMemory(forceFullCollection: true);
        long nativeAfter = AnonymousResidentBytes();
        TestContext.Out.WriteLine(
            $"{Threads}x{RunsPerThread} runs in {watch.ElapsedMilliseconds} ms; managed {managedBefore} -> {managedAfter} B; " +
            $"native (RssAnon) {nativeBefore} -> {nativeAfter} B; allocated per thread {string.Join(", ", allocated)} B");

        Assert.That(failure, Is.Null);
        Assert.That(mismatches, Is.All.Zero, "every result equals the single-threaded one exactly");
        Assert.That(allocated.Sum(), Is.LessThan(AllocationBoundBytes), "the measured calls allocate (almost) nothing on the managed heap");
        Assert.That(managedAfter - managedBefore, Is.LessThan(ManagedBoundBytes));
        Assert.That(nativeAfter - nativeBefore, Is.LessThan(NativeBoundBytes));
    }

    // Anonymous resident memory (malloc'd native memory and the GC heap) from /proc/self/status on Linux; it
    // excludes mapped files such as libonnxruntime.so. Elsewhere fall back to the working set.
    private static long AnonymousResidentBytes()
    {
        const string Status = "/proc/self/status";
        if (File.Exists(Status))
        {
            foreach (string line in File.ReadLines(Status))
            {
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    string kb = line["RssAnon:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        using Process self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }
}
