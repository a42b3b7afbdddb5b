namespace Compress.Runtime.Tests;

public class PoolTests
{
    [Test]
    public void PoolOfThreeSessionsGivesTheSingleModelResultsFromFourThreads()
    {
        float[] expected;
        using (CompressedModel single = CompressedModel.Load(Digits.ModelPath))
        {
            expected = Digits.RunRowByRow(single);
        }

        using CompressedModelPool pool = CompressedModelPool.Load(Digits.ModelPath, sessionCount: 3);
        Assert.That(pool.Models, Has.Count.EqualTo(3));
        Assert.That(pool.ToString(), Is.EqualTo("digits-mlp x3 (input: Float32[batch,64] -> logits: Float32[batch,10])"));

        var results = new float[4][];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var logits = new float[Digits.Rows * Digits.Classes];
            for (int i = 0; i < Digits.Rows; i++)
            {
                pool.Run(Digits.Row(i), [1, Digits.Features], logits.AsSpan(i * Digits.Classes, Digits.Classes));
            }

            results[t] = logits;
        });

        Assert.That(results, Has.All.EqualTo(expected));
        Assert.That(pool.Run([ModelInput.Create("input", Digits.Row(7).ToArray(), 1, Digits.Features)], null)[0].ToArray<float>(),
            Is.EqualTo(expected.AsSpan(7 * Digits.Classes, Digits.Classes).ToArray()));
    }

    [Test]
    public void PoolGivesOneIntraOpThreadPerSessionUnlessTold()
    {
        var seen = new List<int>();
        var options = new CompressedModelOptions { ConfigureSessionOptions = so => seen.Add(so.IntraOpNumThreads) };

        using (CompressedModelPool.Load(Digits.ModelPath, 2, options))
        {
        }

        Assert.That(options.IntraOpNumThreads, Is.Zero, "the caller's options are not changed");
        options.IntraOpNumThreads = 2;
        using (CompressedModelPool.Load(Digits.ModelPath, 1, options))
        {
        }

        Assert.That(seen, Is.EqualTo(new[] { 1, 1, 2 }));
    }

    [Test]
    public void DisposedPoolRefusesRuns()
    {
        CompressedModelPool pool = CompressedModelPool.Load(Digits.ModelPath, 2);
        pool.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.Run(Digits.Row(0), [1, Digits.Features]));
        Assert.That(() => pool.Models[1].Run(Digits.Row(0), [1, Digits.Features]), Throws.InstanceOf<ObjectDisposedException>());
    }
}
