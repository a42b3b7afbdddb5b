using Compress.Runtime.Data;

namespace Compress.Runtime.Tests;

public class RunAsyncTests
{
    [Test]
    public async Task AsyncOverloadsGiveTheSynchronousResults()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        float[] rows = Digits.X.AsSpan<float>().Slice(0, 5 * Digits.Features).ToArray();
        float[] expected = model.Run(rows, [5, Digits.Features]).ToArray<float>();

        ModelOutput single = await model.RunAsync(rows, new long[] { 5, Digits.Features });
        IReadOnlyList<ModelOutput> general = await model.RunAsync([ModelInput.Create("input", rows, 5, Digits.Features)]);
        var into = new float[5 * Digits.Classes];
        await model.RunAsync(rows, new long[] { 5, Digits.Features }, into);

        Assert.That(single.ToArray<float>(), Is.EqualTo(expected));
        Assert.That(general[0].ToArray<float>(), Is.EqualTo(expected));
        Assert.That(into, Is.EqualTo(expected));
    }

    [Test]
    public void AlreadyCancelledTokenThrowsOperationCanceled()
    {
        using CompressedModel model = CompressedModel.Load(Digits.ModelPath);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        float[] row = Digits.Row(0).ToArray();

        Assert.That(async () => await model.RunAsync(row, new long[] { 1, Digits.Features }, cancelled.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await model.RunAsync([ModelInput.Create("input", row, 1, Digits.Features)], cancelled.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await model.RunAsync(row, new long[] { 1, Digits.Features }, new float[Digits.Classes], cancelled.Token),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task CancellingDuringARunStopsOnnxRuntime()
    {
        // ocr-det on one 640x640 page takes about 120 ms on the reference machine (README: 240 ms for 2 pages),
        // so a cancel after 20 ms lands while ONNX Runtime is between operators. Cancel from this thread (not a
        // timer, whose callback a busy thread pool could delay past the end of the run).
        using CompressedModel model = CompressedModel.Load(SharedMaterial.Model("ocr-det.onnx"), new CompressedModelOptions { IntraOpNumThreads = 1 });
        NpyArray pages = NpyArray.Load(SharedMaterial.Data("det_test_x.npy"));
        float[] page = pages.AsSpan<float>().Slice(0, 3 * 640 * 640).ToArray();
        using var cancel = new CancellationTokenSource();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Task<ModelOutput> run = model.RunAsync(page, new long[] { 1, 3, 640, 640 }, cancel.Token);
        Thread.Sleep(20);
        cancel.Cancel(); // runs the Terminate callback on this thread, now
        OperationCanceledException? caught = null;
        try
        {
            await run;
        }
        catch (OperationCanceledException e)
        {
            caught = e;
        }

        Assert.That(caught, Is.Not.Null, $"the run completed in {watch.ElapsedMilliseconds} ms without being cancelled");
        Assert.That(caught!.CancellationToken, Is.EqualTo(cancel.Token));

        // The model stays usable after a cancelled run.
        ModelOutput output = await model.RunAsync(page, new long[] { 1, 3, 640, 640 });
        Assert.That(output.Shape, Is.EqualTo(new long[] { 1, 1, 640, 640 }));
    }
}
