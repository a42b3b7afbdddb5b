namespace Compress.Core.Tests.Spec;

/// <summary>
/// A valid spec with fixed line numbers; tests replace one line to plant one mistake at a known position.
/// </summary>
internal static class SpecTemplate
{
    private static readonly string[] Lines =
    [
        "version: 1",                                    // 1
        "models:",                                       // 2
        "  - name: digits-int8",                         // 3: name at col 5, value at col 11
        "    source: models/digits.onnx",                // 4: value at col 13
        "    passes:",                                   // 5
        "      - quantize:",                             // 6: pass name at col 9
        "          mode: dynamic",                       // 7: key at col 11, value at col 17
        "          per_channel: true",                   // 8: value at col 24
        "          op_types_to_quantize: [MatMul, Gemm]", // 9: value at col 33
    ];

    public static string Valid => Join(Lines);

    /// <summary>The template with 1-based line <paramref name="line"/> replaced by <paramref name="text"/>.</summary>
    public static string With(int line, string text)
    {
        string[] copy = [.. Lines];
        copy[line - 1] = text;
        return Join(copy);
    }

    private static string Join(IEnumerable<string> lines) => string.Join('\n', lines) + "\n";
}
