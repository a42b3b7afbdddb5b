namespace Compress.Core.Passes;

/// <summary>
/// A weight a quantization pass replaced by an integer tensor: how well that tensor represents it, and the nodes
/// that read it (the names a user would put in <c>nodes_to_exclude</c>). Kept in the pass report, not serialised:
/// the pipeline reports the records whose integer tensor the final model still holds.
/// </summary>
internal sealed class QuantizedWeightRecord(string integerTensor, string tensor, long elements, double sqnrDb)
{
    private readonly List<string> _readers = [];

    /// <summary>The integer initializer that holds the quantized values.</summary>
    public string IntegerTensor { get; } = integerTensor;

    /// <summary>The float weight's name when it was quantized.</summary>
    public string Tensor { get; } = tensor;

    public long Elements { get; } = elements;

    public double SqnrDb { get; } = sqnrDb;

    /// <summary>Labels of the nodes quantized with this weight, in the order met, each once.</summary>
    public IReadOnlyList<string> Readers => _readers;

    public void AddReader(string node)
    {
        if (!_readers.Contains(node))
        {
            _readers.Add(node);
        }
    }
}
