namespace Compress.Core.Spec;

/// <summary>
/// Matches node names against the globs of <c>nodes_to_exclude</c>: <c>*</c> stands for any run of
/// characters (including '/' — ONNX node names are not paths), <c>?</c> for exactly one character;
/// everything else matches itself, case-sensitively.
/// </summary>
public static class NodeNameGlob
{
    /// <summary>Whether <paramref name="name"/> matches <paramref name="glob"/> as a whole.</summary>
    public static bool IsMatch(string glob, string name)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(name);

        // Iterative matcher with single backtrack point: linear in practice, no regex escaping pitfalls.
        int g = 0, n = 0, starGlob = -1, starName = 0;
        while (n < name.Length)
        {
            if (g < glob.Length && (glob[g] == '?' || glob[g] == name[n]) && glob[g] != '*')
            {
                g++;
                n++;
            }
            else if (g < glob.Length && glob[g] == '*')
            {
                starGlob = g++;
                starName = n;
            }
            else if (starGlob >= 0)
            {
                g = starGlob + 1;
                n = ++starName;
            }
            else
            {
                return false;
            }
        }

        while (g < glob.Length && glob[g] == '*')
        {
            g++;
        }

        return g == glob.Length;
    }
}
