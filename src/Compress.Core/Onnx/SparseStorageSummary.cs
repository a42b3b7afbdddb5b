namespace Compress.Core.Onnx;

/// <summary>What <see cref="SparseInitializerStorage.Store"/> changed (the report's <c>sparse_storage</c> section).</summary>
public sealed record SparseStorageSummary
{
    /// <summary>Initializers now stored as sparse initializers.</summary>
    public int Initializers { get; init; }

    /// <summary>Bytes those initializers take in the graph in dense form (tag, length and message).</summary>
    public long DenseBytes { get; init; }

    /// <summary>Bytes the same initializers take in sparse form.</summary>
    public long SparseBytes { get; init; }

    /// <summary>Bytes the sparse form saves (the file shrinks by this much, or a few bytes more where enclosing length prefixes get shorter).</summary>
    public long BytesSaved => DenseBytes - SparseBytes;
}
