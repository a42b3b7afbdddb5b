using System.Globalization;

namespace Compress.Core.Passes;

/// <summary>
/// An N:M semi-structured sparsity pattern: in every group of <see cref="M"/> consecutive weights along a
/// layer's input dimension, only the <see cref="N"/> largest in magnitude stay (e.g. 2:4 keeps half).
/// </summary>
/// <param name="N">Weights kept per group (1 ≤ N &lt; M).</param>
/// <param name="M">Group size.</param>
public readonly record struct MagnitudePruningPattern(int N, int M)
{
    /// <summary>The fraction of weights the pattern zeroes, 1 − N/M.</summary>
    public double Sparsity => 1.0 - ((double)N / M);

    /// <summary>Parses <c>"N:M"</c> (e.g. <c>"2:4"</c>); null when the text is not such a pattern with 1 ≤ N &lt; M ≤ 64.</summary>
    public static MagnitudePruningPattern? TryParse(string? text)
    {
        string[] parts = (text ?? string.Empty).Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int keep)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int group))
        {
            return null;
        }

        return keep >= 1 && keep < group && group <= 64 ? new MagnitudePruningPattern(keep, group) : null;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{N}:{M}");
}
