namespace Compress.Core.Passes;

/// <summary>How the importance of an output neuron / channel is measured from its weights.</summary>
public enum StructuredPruningNorm
{
    /// <summary>Sum of absolute values.</summary>
    L1,

    /// <summary>Euclidean norm.</summary>
    L2,
}
