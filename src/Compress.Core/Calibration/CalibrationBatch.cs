using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Calibration;

/// <summary>
/// One batch of calibration samples as ONNX Runtime tensors, one per fed model input, in model input
/// order. The batch owns the tensors: dispose it as soon as the model has run.
/// </summary>
public sealed class CalibrationBatch : IDisposable
{
    private readonly OrtValue[] _values;

    internal CalibrationBatch(IReadOnlyList<string> inputNames, OrtValue[] values, int firstSample, int sampleCount)
    {
        InputNames = inputNames;
        _values = values;
        FirstSample = firstSample;
        SampleCount = sampleCount;
    }

    /// <summary>The model inputs this batch feeds.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The tensors, aligned with <see cref="InputNames"/>.</summary>
    public IReadOnlyList<OrtValue> Values => _values;

    /// <summary>Index of the batch's first sample in the data set.</summary>
    public int FirstSample { get; }

    /// <summary>Number of samples in the batch.</summary>
    public int SampleCount { get; }

    /// <summary>The tensor for <paramref name="inputName"/>.</summary>
    public OrtValue this[string inputName]
    {
        get
        {
            for (int i = 0; i < InputNames.Count; i++)
            {
                if (InputNames[i] == inputName)
                {
                    return _values[i];
                }
            }

            throw new KeyNotFoundException($"The batch does not feed input '{inputName}'; it feeds {string.Join(", ", InputNames)}.");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (OrtValue value in _values)
        {
            value.Dispose();
        }
    }
}
