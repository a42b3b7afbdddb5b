namespace Compress.Runtime.Tests;

public class AllocationTests
{
    [Test]
    public void SpanOverloadAllocatesASmallFixedAmountIndependentOfDataSize()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        ReadOnlySpan<float> input = Digits.X.AsSpan<float>();
        var output = new float[Digits.Rows * Digits.Classes];
        long[] shape = [Digits.Rows, Digits.Features];
        model.Run(input, shape, output); // warm up: scratch buffers, ONNX Runtime's name caches, JIT

        const int Runs = 50;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Runs; i++)
        {
            model.Run(input, shape, output);
        }

        long perRun = (GC.GetAllocatedBytesForCurrentThread() - before) / Runs;

        // Input 450x64 floats = 115,200 B and output 18,000 B: copying either would show. What remains is
        // ONNX Runtime's per-call managed wrappers (two OrtValue objects and small handle/name arrays),
        // a few hundred bytes; 1 KiB leaves room for runtime differences while staying far below one copy.
        Assert.That(perRun, Is.LessThan(1024), $"{perRun} bytes per run");
        TestContext.Out.WriteLine($"managed allocation per run: {perRun} B");
    }

    [Test]
    public void SpanOverloadWritesTheSameLogitsAsTheAllocatingOverload()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        var output = new float[Digits.Rows * Digits.Classes];

        model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features], output);

        Assert.That(output, Is.EqualTo(model.Run(Digits.X.AsSpan<float>(), [Digits.Rows, Digits.Features]).ToArray<float>()));
    }
}
