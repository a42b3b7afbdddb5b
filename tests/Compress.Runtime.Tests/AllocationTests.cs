namespace Compress.Runtime.Tests;

public class AllocationTests
{
    [Test]
    public void SpanOverloadAllocatesNothingInTheSteadyStateForLargeTensors()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        ReadOnlySpan<float> input = Digits.X.AsSpan<float>();
        var output = new float[Digits.Rows * Digits.Classes];
        long[] shape = [Digits.Rows, Digits.Features];
        model.Run(input, shape, output); // warm up: bound tensors, JIT

        // Input 450x64 floats = 115,200 B (above the 4 KiB staging limit): bound in place, reused while the
        // caller passes the same buffers and shape.
        long perRun = AllocatedPerRun(50, () => model.Run(Digits.X.AsSpan<float>(), shape, output));

        Assert.That(perRun, Is.Zero, $"{perRun} bytes per run");
    }

    [Test]
    public void SpanOverloadAllocatesNothingForSmallTensorsFromChangingSlices()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        var logits = new float[Digits.Rows * Digits.Classes];
        long[] shape = [1, Digits.Features];
        model.Run(Digits.Row(0), shape, logits.AsSpan(0, Digits.Classes));

        // One row (256 B in, 40 B out) at a different address every call: staged through native buffers.
        int row = 0;
        long perRun = AllocatedPerRun(Digits.Rows, () =>
        {
            model.Run(Digits.Row(row), shape, logits.AsSpan(row * Digits.Classes, Digits.Classes));
            row++;
        });

        Assert.That(perRun, Is.Zero, $"{perRun} bytes per run");
    }

    [Test]
    public void SpanOverloadWritesTheSameLogitsAsTheAllocatingOverload()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        var output = new float[Digits.Rows * Digits.Classes];

        model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features], output);

        Assert.That(output, Is.EqualTo(model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features]).ToArray<float>()));
    }

    [Test]
    public void ChangingShapesRebindAndStillGiveTheRightResults()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        float[] expected = model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features]).ToArray<float>();
        var output = new float[Digits.Rows * Digits.Classes];

        // Alternate small (staged) and large (in place) batches over the same and different buffers.
        foreach (int batch in new[] { 1, 200, 3, 450, 64, 1 })
        {
            for (int start = 0; start + batch <= Digits.Rows; start += batch)
            {
                model.Run(Digits.X.AsSpan<float>().Slice(start * Digits.Features, batch * Digits.Features), [batch, Digits.Features],
                    output.AsSpan(start * Digits.Classes, batch * Digits.Classes));
            }

            int covered = Digits.Rows / batch * batch * Digits.Classes;
            Assert.That(output.AsSpan(0, covered).ToArray(), Is.EqualTo(expected.AsSpan(0, covered).ToArray()).Within(1e-5f), $"batch {batch}");
        }
    }

    private static long AllocatedPerRun(int runs, Action run)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++)
        {
            run();
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / runs;
    }
}
