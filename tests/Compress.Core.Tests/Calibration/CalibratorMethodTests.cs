using Compress.Core.Calibration;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Calibration;

/// <summary>MinMax, moving average, Percentile and Entropy against values computed directly in the test.</summary>
[TestFixture]
public sealed class CalibratorMethodTests
{
    private const int Rows = 37;
    private static readonly string[] ReluMatMulTensors = ["X", "H", "Y"];
    private static readonly string[] OnlyH = ["H"];
    private static readonly string[] BranchMainTensors = ["X", "A", "Y"];
    private static readonly int[] ProgressSamples = [8, 16, 24, 30];

    [Test]
    public void MinMaxEqualsTheExtremesOfEveryActivation()
    {
        float[] x = TinyModels.RandomValues(Rows * CalibrationModels.Features, 21, 3f);
        CalibrationResult result = CalibrateReluMatMul(x, new CalibrationOptions { BatchSize = 8 });

        float[] h = CalibrationModels.MatMul(x, Rows);
        float[] y = h.Select(v => Math.Max(v, 0f)).ToArray();
        Assert.That(result.Ranges.Keys, Is.EqualTo(ReluMatMulTensors));
        Assert.That(result.Ranges["X"], Is.EqualTo(new TensorRange(x.Min(), x.Max())), "graph input, exact");
        AssertRange(result.Ranges["H"], h.Min(), h.Max(), 1e-5f);
        AssertRange(result.Ranges["Y"], 0f, y.Max(), 1e-5f);
        Assert.That((result.SamplesUsed, result.BatchesRun), Is.EqualTo((Rows, 5)));
        Assert.That(result.Uncalibrated, Is.Empty);
    }

    [Test]
    public void SymmetricMinMaxUsesTheLargerMagnitude()
    {
        float[] x = TinyModels.RandomValues(Rows * CalibrationModels.Features, 22, 3f);
        CalibrationResult result = CalibrateReluMatMul(x, new CalibrationOptions { SymmetricRange = true });
        float[] h = CalibrationModels.MatMul(x, Rows);
        float m = Math.Max(Math.Abs(h.Min()), Math.Abs(h.Max()));
        AssertRange(result.Ranges["H"], -m, m, 1e-5f);
        float ym = h.Max();
        AssertRange(result.Ranges["Y"], -ym, ym, 1e-5f);
    }

    [Test]
    public void MovingAverageFollowsOldPlusConstantTimesNewMinusOld()
    {
        // Rows grow in magnitude so that every batch has other extremes.
        float[] x = TinyModels.RandomValues(Rows * CalibrationModels.Features, 23).Select((v, i) => v * (1 + (i / CalibrationModels.Features))).ToArray();
        const double c = 0.3;
        CalibrationResult result = CalibrateReluMatMul(x, new CalibrationOptions { BatchSize = 8, MovingAverage = true, MovingAverageConstant = c });

        double min = 0;
        double max = 0;
        for (int start = 0; start < Rows; start += 8)
        {
            int count = Math.Min(8, Rows - start);
            float[] batch = x.Skip(start * CalibrationModels.Features).Take(count * CalibrationModels.Features).ToArray();
            (double bmin, double bmax) = (batch.Min(), batch.Max());
            (min, max) = start == 0 ? (bmin, bmax) : (min + (c * (bmin - min)), max + (c * (bmax - max)));
        }

        AssertRange(result.Ranges["X"], (float)min, (float)max, 1e-6f);
        Assert.That(result.Ranges["X"].Max, Is.LessThan(x.Max() - 1f), "the average lags behind the global maximum");
    }

    [Test]
    public void SymmetricPercentileOfUniformDataIsTheAnalyticQuantileOfMagnitudes()
    {
        // |U(-1, 1)| is U(0, 1): its 99th percentile is 0.99.
        var random = new Random(5);
        float[] x = Enumerable.Range(0, 4000 * 10).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        CalibrationResult result = CalibrateIdentity(x, 10, new CalibrationOptions { Method = CalibrationMethod.Percentile, Percentile = 99 });
        // Tolerance: sampling error of a 99 % quantile of 40,000 values (~0.001) plus a few 1/2048 bins.
        AssertRange(result.Ranges["X"], -0.99f, 0.99f, 0.005f);
    }

    [Test]
    public void TwoSidedPercentileCutsHalfTheRestFromEachTail()
    {
        // U(0, 4), 99 %: 0.5 % is cut on each side, so the range is [0.02, 3.98].
        var random = new Random(6);
        float[] x = Enumerable.Range(0, 4000 * 10).Select(_ => (float)(random.NextDouble() * 4)).ToArray();
        CalibrationResult result = CalibrateIdentity(x, 10, new CalibrationOptions { Method = CalibrationMethod.Percentile, Percentile = 99, SymmetricRange = false });
        AssertRange(result.Ranges["X"], 0.02f, 3.98f, 0.02f);
    }

    [Test]
    public void EntropyClipsTheOutliersOfAHeavyTailedInputButKeepsTheBulk()
    {
        // Standard normal values with 0.1 % outliers at ±40.
        var random = new Random(7);
        float[] x = Enumerable.Range(0, 4000 * 10).Select(i => i % 1000 == 999 ? (i % 2000 == 999 ? 40f : -40f) : (float)Gaussian(random)).ToArray();
        var options = new CalibrationOptions { Method = CalibrationMethod.Entropy, HistogramBins = 2048, BatchSize = 500 };
        TensorRange entropy = CalibrateIdentity(x, 10, options).Ranges["X"];
        TensorRange minMax = CalibrateIdentity(x, 10, new CalibrationOptions()).Ranges["X"];

        TestContext.Out.WriteLine($"entropy {entropy}, min-max {minMax}");
        Assert.That(entropy.Min, Is.GreaterThanOrEqualTo(minMax.Min));
        Assert.That(entropy.Max, Is.LessThanOrEqualTo(minMax.Max));
        Assert.That(entropy.Max, Is.LessThan(0.5f * minMax.Max), "the outliers at 40 are clipped");
        Assert.That(entropy.Max, Is.GreaterThan(2.5f), "the bulk (beyond 2.5 sigma) stays inside the range");
        Assert.That(entropy.Min, Is.LessThan(-2.5f));
    }

    [TestCase(CalibrationMethod.Percentile, true)]
    [TestCase(CalibrationMethod.Percentile, false)]
    [TestCase(CalibrationMethod.MinMax, false)]
    public void HistogramsMergedOverManyBatchesMatchOneBatch(CalibrationMethod method, bool symmetric)
    {
        // Magnitudes grow from batch to batch, so the histograms keep growing (and get merged under the bin cap).
        var random = new Random(8);
        float[] x = Enumerable.Range(0, 2000 * 10).Select(i => (float)(Gaussian(random) * (1 + (i / 2000.0)))).ToArray();
        var oneBatch = new CalibrationOptions { Method = method, SymmetricRange = symmetric, Percentile = 99.9, BatchSize = 2000 };
        var manyBatches = new CalibrationOptions { Method = method, SymmetricRange = symmetric, Percentile = 99.9, BatchSize = 50, MaxHistogramBins = 4096 };
        TensorRange single = CalibrateIdentity(x, 10, oneBatch).Ranges["X"];
        TensorRange merged = CalibrateIdentity(x, 10, manyBatches).Ranges["X"];

        TestContext.Out.WriteLine($"one batch {single}, 50-sample batches {merged}");
        // Tolerance: two bins of the coarsest histogram (range 2·max|x| over 4096/2 bins).
        float bin = 2 * 2 * Math.Max(Math.Abs(x.Min()), x.Max()) / 2048;
        AssertRange(merged, single.Min, single.Max, 2 * bin);
    }

    [Test]
    public void TensorNamesRestrictCalibrationAndExplainWhatCannotBeCalibrated()
    {
        using var folder = new TempFolder();
        string path = folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [4, CalibrationModels.Features], TinyModels.RandomValues(4 * CalibrationModels.Features, 24));
        ModelProto model = CalibrationModels.ReluMatMul();
        CalibrationDataSet data = CalibrationDataSet.Open([path], model);
        CalibrationResult result = Calibrator.Calibrate(model, data, new CalibrationOptions { TensorNames = ["H", "W", "missing"] });

        Assert.That(result.Ranges.Keys, Is.EqualTo(OnlyH));
        var reasons = result.Uncalibrated.ToDictionary(u => u.Name, u => u.Reason);
        Assert.That(reasons, Is.EquivalentTo(new Dictionary<string, UncalibratedReason>
        {
            ["W"] = UncalibratedReason.Constant,
            ["missing"] = UncalibratedReason.NotFound,
        }));
    }

    [Test]
    public void BranchSelectedByAnInputReportsTheBranchThatNeverRan()
    {
        using var folder = new TempFolder();
        string path = folder.File("data.npz");
        NpyTestFiles.WriteNpz(path, new Dictionary<string, byte[]>
        {
            ["X"] = NpyTestFiles.Floats([3, 4], TinyModels.RandomValues(12, 25)),
            ["cond"] = NpyTestFiles.Create("|b1", [], [1]),
        });
        ModelProto model = CalibrationModels.BranchOnInput();
        CalibrationDataSet data = CalibrationDataSet.Open([path], model);
        CalibrationResult result = Calibrator.Calibrate(model, data, new CalibrationOptions());

        // cond is true on every sample: the then branch is inlined for calibration, so its tensor gets a range.
        Assert.That(result.Ranges.Keys, Is.EquivalentTo(BranchMainTensors.Append("then_y")));
        var reasons = result.Uncalibrated.ToDictionary(u => u.Name, u => u.Reason);
        Assert.That(reasons, Has.Count.EqualTo(1));
        Assert.That(reasons["else_y"], Is.EqualTo(UncalibratedReason.BranchNeverRan));
    }

    [Test]
    public void ProgressIsReportedAfterEveryBatch()
    {
        using var folder = new TempFolder();
        string path = folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [Rows, CalibrationModels.Features], TinyModels.RandomValues(Rows * CalibrationModels.Features, 26));
        ModelProto model = CalibrationModels.ReluMatMul();
        var reports = new List<CalibrationProgress>();
        var progress = new SynchronousProgress(reports.Add);
        Calibrator.Calibrate(model, CalibrationDataSet.Open([path], model, maxSamples: 30), new CalibrationOptions { BatchSize = 8, Progress = progress });
        Assert.That(reports.Select(r => r.SamplesDone), Is.EqualTo(ProgressSamples));
        Assert.That(reports, Has.All.Property(nameof(CalibrationProgress.SamplesTotal)).EqualTo(30));
    }

    private static CalibrationResult CalibrateReluMatMul(float[] x, CalibrationOptions options)
    {
        using var folder = new TempFolder();
        string path = folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [x.Length / CalibrationModels.Features, CalibrationModels.Features], x);
        ModelProto model = CalibrationModels.ReluMatMul();
        return Calibrator.Calibrate(model, CalibrationDataSet.Open([path], model), options);
    }

    private static CalibrationResult CalibrateIdentity(float[] x, int width, CalibrationOptions options)
    {
        using var folder = new TempFolder();
        string path = folder.File("x.npy");
        NpyTestFiles.WriteFloats(path, [x.Length / width, width], x);
        ModelProto model = CalibrationModels.Identity(width);
        return Calibrator.Calibrate(model, CalibrationDataSet.Open([path], model), options);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static void AssertRange(TensorRange actual, float min, float max, float tolerance)
    {
        Assert.That(actual.Min, Is.EqualTo(min).Within(tolerance), "min");
        Assert.That(actual.Max, Is.EqualTo(max).Within(tolerance), "max");
    }

    /// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<CalibrationProgress> report) : IProgress<CalibrationProgress>
    {
        public void Report(CalibrationProgress value) => report(value);
    }
}
