namespace Compress.Core.Passes;

/// <summary>What decides which outputs a structurally pruned layer keeps.</summary>
public enum StructuredPruningImportance
{
    /// <summary>The norm of each output's weights (no data needed).</summary>
    Weights,

    /// <summary>
    /// Calibration activations: the outputs the consuming layers need most to reproduce their original
    /// outputs by least squares (see <see cref="StructuredPruningSelection"/>).
    /// </summary>
    Activations,
}
