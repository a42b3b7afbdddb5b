using Compress.Core.Calibration;
using Compress.Core.IO;

namespace Compress.Core.Spec;

/// <summary>
/// The <c>calibration</c> block of a static quantize pass: which sample data to run and how activation ranges
/// are derived from it. Defaults follow onnxruntime.quantization's calibrators.
/// </summary>
public sealed class CalibrationSpec
{
    /// <summary>Default of <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 16;

    /// <summary>Default of <see cref="Percentile"/> (ORT <c>CalibPercentile</c>).</summary>
    public const double DefaultPercentile = 99.999;

    /// <summary>Default of <see cref="MovingAverageConstant"/> (ORT <c>CalibMovingAverageConstant</c>).</summary>
    public const double DefaultMovingAverageConstant = 0.01;

    /// <summary>
    /// Full paths of the data: <c>.npy</c> / <c>.npz</c> files or folders of <c>input_N.pb</c> files, in the order
    /// written. Globs stay globs (made absolute); <see cref="PathGlob.Expand"/> lists their matches at run time.
    /// </summary>
    public required IReadOnlyList<string> DataPaths { get; init; }

    /// <summary>How ranges are derived (<c>method</c>, or <c>calibrate_method</c> on the pass).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>Use at most this many samples (the first ones, in data order); null uses all.</summary>
    public int? Samples { get; init; }

    /// <summary>Samples per calibration run of the model.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>Percentile method: the percentile of values kept inside the range, in (0, 100].</summary>
    public double Percentile { get; init; } = DefaultPercentile;

    /// <summary>MinMax method: moving average of per-batch extremes instead of global extremes.</summary>
    public bool MovingAverage { get; init; }

    /// <summary>MinMax with <see cref="MovingAverage"/>: weight of the newest batch, in (0, 1).</summary>
    public double MovingAverageConstant { get; init; } = DefaultMovingAverageConstant;

    /// <summary>
    /// Symmetric ranges (ORT <c>CalibTensorRangeSymmetric</c>). When not written, ORT's default for the method:
    /// true for Percentile, false for MinMax and Entropy.
    /// </summary>
    public bool SymmetricRange { get; init; }

    /// <summary>Where the <c>calibration</c> key stands in the spec file.</summary>
    public SourceLocation Location { get; init; } = SourceLocation.Unknown;

    /// <summary>Every data file or folder, with globs expanded (sorted, ordinal) and duplicates removed.</summary>
    public IReadOnlyList<string> ExpandDataPaths()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var paths = new List<string>();
        foreach (string path in DataPaths)
        {
            IEnumerable<string> matches = PathGlob.IsGlob(path) ? PathGlob.Expand(path) : [path];
            paths.AddRange(matches.Where(seen.Add));
        }

        return paths;
    }
}
