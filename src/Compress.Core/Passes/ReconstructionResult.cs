namespace Compress.Core.Passes;

/// <summary>The outcome of <see cref="Reconstruction.Reconstruct"/>: the pass report and the refitted layers.</summary>
/// <param name="Report">What the pass did, as every pass reports it.</param>
/// <param name="Layers">The refitted layers in graph order.</param>
public sealed record ReconstructionResult(PassReport Report, IReadOnlyList<ReconstructionLayer> Layers);
