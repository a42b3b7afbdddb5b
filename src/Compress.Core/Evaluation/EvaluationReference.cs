using Compress.Core.Diagnostics;
using Compress.Core.Onnx.Proto;
using Compress.Runtime.Data;

namespace Compress.Core.Evaluation;

/// <summary>
/// The original model's side of an evaluation, computed once: its output on the data and the labels.
/// Compressed variants (tuning tries many) are compared against it with <see cref="Evaluate"/>.
/// </summary>
public sealed class EvaluationReference
{
    private EvaluationReference(ModelProto original, EvaluationData data, CollectedOutput output, long[]? labels)
    {
        Original = original;
        Data = data;
        Output = output;
        Labels = labels;
    }

    /// <summary>The original model (not changed).</summary>
    public ModelProto Original { get; }

    /// <summary>The evaluation data.</summary>
    public EvaluationData Data { get; }

    /// <summary>The original model's scored output.</summary>
    public CollectedOutput Output { get; }

    /// <summary>The labels, or null.</summary>
    public IReadOnlyList<long>? Labels { get; }

    /// <summary>How many times <see cref="Evaluate"/> ran a compressed model (the cost of tuning, in evaluations).</summary>
    public int Evaluations { get; private set; }

    /// <summary>Runs the original model on the data and reads the labels.</summary>
    /// <param name="original">The original model.</param>
    /// <param name="data">The evaluation data.</param>
    /// <param name="progress">Receives (samples done, samples in all) after every batch; null reports nothing.</param>
    /// <exception cref="CompressException">CMP2003 for labels that are unreadable, not integers or fewer than the samples.</exception>
    public static EvaluationReference Create(ModelProto original, EvaluationData data, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(data);
        CollectedOutput output = ModelOutputCollector.Collect(original, original, data, progress);
        long[]? labels = data.LabelsPath is null ? null : ReadLabels(data.LabelsPath, output.SampleCount);
        return new EvaluationReference(original, data, output, labels);
    }

    /// <summary>Runs <paramref name="compressed"/> on the same data and compares it with the original.</summary>
    /// <param name="compressed">The model to compare.</param>
    /// <param name="progress">Receives (samples done, samples in all) after every batch; null reports nothing.</param>
    public EvaluationResult Evaluate(ModelProto compressed, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(compressed);
        Evaluations++;
        CollectedOutput output = ModelOutputCollector.Collect(compressed, Original, Data, progress);
        return OutputComparison.Compare(Output, output, Labels, Data.TopK, Data.Threshold, Data.MaskIou);
    }

    private static long[] ReadLabels(string path, int samples)
    {
        NpyArray array;
        try
        {
            array = NpyArray.Load(path);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or NotSupportedException or UnauthorizedAccessException)
        {
            throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"The labels cannot be read: {e.Message}", path, e);
        }

        if (array.ElementType is not (NpyElementType.Int64 or NpyElementType.Int32) || array.Shape.Count != 1)
        {
            throw new CompressException(
                DiagnosticCodes.EvaluationDataInvalid,
                $"The labels must be a 1-d int64 array (one class per sample), but this one is {array.ElementType} [{string.Join(", ", array.Shape)}].",
                path);
        }

        long[] labels = array.ToInt64Array();
        if (labels.Length < samples)
        {
            throw new CompressException(DiagnosticCodes.EvaluationDataInvalid, $"The labels hold {labels.Length} values, but the data hold {samples} samples.", path);
        }

        return labels;
    }
}
