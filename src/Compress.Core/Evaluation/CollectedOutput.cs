namespace Compress.Core.Evaluation;

/// <summary>One output of a model over every evaluation sample, as float32, samples along axis 0.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="Values">All values, sample after sample.</param>
/// <param name="SampleCount">Number of samples.</param>
/// <param name="SampleShape">Shape of one sample (the output shape without its batch axis).</param>
public sealed record CollectedOutput(string Name, float[] Values, int SampleCount, IReadOnlyList<long> SampleShape)
{
    /// <summary>Values per sample.</summary>
    public int SampleSize => SampleCount == 0 ? 0 : Values.Length / SampleCount;

    /// <summary>Whether the output is [N, classes] with at least 2 classes: logits or probabilities.</summary>
    public bool IsClassification => SampleShape.Count == 1 && SampleShape[0] >= 2;

    /// <summary>Whether each sample is one value ([N] or [N, 1]): a binary decision by a threshold.</summary>
    public bool IsBinary => SampleShape.Count == 0 || (SampleShape.Count == 1 && SampleShape[0] == 1);

    /// <summary>The values of sample <paramref name="index"/>.</summary>
    public ReadOnlySpan<float> Sample(int index) => Values.AsSpan(index * SampleSize, SampleSize);
}
