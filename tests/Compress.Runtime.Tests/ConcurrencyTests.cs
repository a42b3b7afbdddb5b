namespace Compress.Runtime.Tests;

public class ConcurrencyTests
{
    private const int Threads = 4;
    private const int RunsPerThread = 200;

    [Test]
    public void FourThreadsSharingOneModelGetTheSingleThreadedResultsExactly()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        float[] expected = Digits.RunRowByRow(model);
        var mismatches = new int[Threads];

        using var start = new Barrier(Threads);
        Thread[] threads = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var logits = new float[Digits.Classes];
            for (int run = 0; run < RunsPerThread; run++)
            {
                // Threads walk the rows at different offsets and alternate the two single-input overloads,
                // so the shared scratch slot and ONNX Runtime's session are both contended.
                int row = ((t * 97) + (run * 7)) % Digits.Rows;
                ReadOnlySpan<float> actual;
                if (run % 2 == 0)
                {
                    model.Run(Digits.Row(row), [1, Digits.Features], logits);
                    actual = logits;
                }
                else
                {
                    actual = model.Run(Digits.Row(row), [1, Digits.Features]).AsSpan<float>();
                }

                if (!actual.SequenceEqual(expected.AsSpan(row * Digits.Classes, Digits.Classes)))
                {
                    mismatches[t]++;
                }
            }
        }))];

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.That(mismatches, Is.All.Zero);
    }
}
