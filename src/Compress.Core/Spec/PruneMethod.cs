namespace Compress.Core.Spec;

/// <summary>The <c>method</c> of a <c>prune</c> pass.</summary>
public enum PruneMethod
{
    /// <summary>Unstructured: the smallest-magnitude weights become 0 (shapes stay).</summary>
    Magnitude,

    /// <summary>Whole output neurons / channels are removed (shapes shrink).</summary>
    Structured,
}
