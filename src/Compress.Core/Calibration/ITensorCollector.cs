namespace Compress.Core.Calibration;

/// <summary>
/// Accumulates the values of one tensor over all calibration batches in a fixed amount of memory and
/// turns them into a range at the end.
/// </summary>
internal interface ITensorCollector
{
    /// <summary>Adds the values of one batch (NaNs are ignored, as numpy's nanmin/nanmax do).</summary>
    void Add(ReadOnlySpan<float> values);

    /// <summary>The range, or null when no value was ever seen.</summary>
    TensorRange? Compute();
}
