using System.Globalization;
using System.Text.RegularExpressions;
using Compress.Core.Calibration;
using Compress.Core.Onnx.Proto;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Calibration;

/// <summary>
/// Peak memory of a calibration does not grow with the number of samples.
/// </summary>
/// <remarks>
/// How it is measured: the peak resident set size of this process (Linux <c>VmHWM</c>), reset just
/// before each calibration by writing 5 to <c>/proc/self/clear_refs</c>, after a blocking compacting
/// GC. The peak counts managed and native (ONNX Runtime) memory alike and is per process, so other
/// processes on a shared machine do not disturb it. Both runs read the same 1,000-sample file (the
/// 100-sample run caps it), so the file reader weighs the same, and a warm-up run first loads ONNX
/// Runtime and JIT-compiles the code. fashion-cnn's activations are about 180 KB per sample, so
/// keeping them would cost ~18 MB for 100 samples and ~180 MB for 1,000, far beyond the 10 % margin;
/// the second test keeps them on purpose and checks that the measurement sees it.
/// </remarks>
[TestFixture]
[NonParallelizable]
public sealed partial class CalibrationMemoryTests
{
    private const int Samples = 1000;
    private TempFolder _folder = null!;
    private string _data = null!;
    private ModelProto _model = null!;

    [OneTimeSetUp]
    public void WriteThousandSamples()
    {
        if (!File.Exists("/proc/self/clear_refs"))
        {
            Assert.Ignore("Peak memory is measured with Linux /proc/self/clear_refs and VmHWM.");
        }

        _folder = new TempFolder();
        _model = SharedMaterial.LoadModel("fashion-cnn");
        float[] rows = NpyArray.Load(SharedMaterial.DataPath("fashion_calib_x.npy")).ToSingleArray();
        const int sampleSize = 28 * 28;
        var repeated = new float[Samples * sampleSize];
        for (int i = 0; i < Samples; i++)
        {
            rows.AsSpan(i % 256 * sampleSize, sampleSize).CopyTo(repeated.AsSpan(i * sampleSize));
        }

        _data = _folder.File("fashion_1000.npy");
        NpyTestFiles.WriteFloats(_data, [Samples, 1, 28, 28], repeated);
    }

    [OneTimeTearDown]
    public void DeleteFolder() => _folder?.Dispose();

    [Test]
    public void ThousandSamplesPeakNoHigherThanHundredPlusTenPercent()
    {
        var options = new CalibrationOptions { Method = CalibrationMethod.Percentile, BatchSize = 16, IntraOpThreads = 1 };
        PeakOf(10, options, null);
        long hundred = PeakOf(100, options, null);
        long thousand = PeakOf(Samples, options, null);
        TestContext.Out.WriteLine($"peak RSS: 100 samples {hundred / 1024} MB, 1000 samples {thousand / 1024} MB");
        Assert.That(thousand, Is.LessThanOrEqualTo(hundred * 1.10));
    }

    [Test]
    public void MeasurementSeesActivationsThatAreKept()
    {
        var options = new CalibrationOptions { Method = CalibrationMethod.MinMax, BatchSize = 16, IntraOpThreads = 1 };
        PeakOf(10, options, null);
        long hundred = PeakOf(100, options, KeepEverything(new List<float[]>()));
        var kept = new List<float[]>();
        long thousand = PeakOf(Samples, options, KeepEverything(kept));
        TestContext.Out.WriteLine($"peak RSS keeping activations: 100 samples {hundred / 1024} MB, 1000 samples {thousand / 1024} MB");
        Assert.That(thousand, Is.GreaterThan(hundred * 1.10), "a calibrator that stored activations would fail the test above");
        GC.KeepAlive(kept);
    }

    private static ActivationObserver KeepEverything(List<float[]> kept) => (_, values) => kept.Add(values.ToArray());

    /// <summary>Peak resident memory (KB) while calibrating the first <paramref name="samples"/> samples.</summary>
    private long PeakOf(int samples, CalibrationOptions options, ActivationObserver? observer)
    {
        CalibrationDataSet data = CalibrationDataSet.Open([_data], _model, samples);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
        CalibrationResult result = Calibrator.Calibrate(_model, data, options, observer);
        long peak = long.Parse(HighWaterMark().Match(File.ReadAllText("/proc/self/status")).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.That(result.SamplesUsed, Is.EqualTo(samples));
        return peak;
    }

    [GeneratedRegex(@"VmHWM:\s+(\d+) kB")]
    private static partial Regex HighWaterMark();
}
