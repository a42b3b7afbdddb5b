namespace Compress.Core.Passes;

/// <summary>How a target sparsity is shared between layers.</summary>
public enum MagnitudePruningScope
{
    /// <summary>Every layer reaches the target sparsity on its own.</summary>
    PerLayer,

    /// <summary>One magnitude ranking over all selected weights: layers end with different sparsities, the total reaches the target.</summary>
    Global,
}
