namespace Compress.Core.Calibration;

/// <summary>What <see cref="Calibrator.Calibrate"/> found.</summary>
public sealed class CalibrationResult
{
    internal CalibrationResult(
        CalibrationMethod method,
        IReadOnlyDictionary<string, TensorRange> ranges,
        IReadOnlyList<UncalibratedTensor> uncalibrated,
        int samplesUsed,
        int batchesRun,
        TimeSpan elapsed)
    {
        Method = method;
        Ranges = ranges;
        Uncalibrated = uncalibrated;
        SamplesUsed = samplesUsed;
        BatchesRun = batchesRun;
        Elapsed = elapsed;
    }

    /// <summary>The method the ranges were computed with.</summary>
    public CalibrationMethod Method { get; }

    /// <summary>Range per calibrated tensor name (graph inputs first, then node outputs in node order).</summary>
    public IReadOnlyDictionary<string, TensorRange> Ranges { get; }

    /// <summary>Tensors that got no range, with the reason (subgraph tensors, branches that never ran, ...).</summary>
    public IReadOnlyList<UncalibratedTensor> Uncalibrated { get; }

    /// <summary>Samples the model ran on.</summary>
    public int SamplesUsed { get; }

    /// <summary>Model runs (batches).</summary>
    public int BatchesRun { get; }

    /// <summary>Wall time of the calibration, model preparation included.</summary>
    public TimeSpan Elapsed { get; }
}
