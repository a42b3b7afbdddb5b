using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Resolves scalars with the YAML 1.2 core schema, so that the loader agrees with the YAML language server:
/// <c>true</c> is a boolean, <c>"true"</c> and <c>yes</c> are strings, <c>5</c> is an integer.
/// Also words node descriptions for messages.
/// </summary>
internal static partial class YamlValues
{
    private const string CoreTagPrefix = "tag:yaml.org,2002:";

    public static YamlScalarKind KindOf(YamlScalarNode scalar)
    {
        if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific)
        {
            return scalar.Tag.Value switch
            {
                CoreTagPrefix + "str" => YamlScalarKind.String,
                CoreTagPrefix + "null" => YamlScalarKind.Null,
                CoreTagPrefix + "bool" => YamlScalarKind.Boolean,
                CoreTagPrefix + "int" => YamlScalarKind.Integer,
                CoreTagPrefix + "float" => YamlScalarKind.Float,
                _ => YamlScalarKind.CustomTag,
            };
        }

        // Quoted and block scalars (and the non-specific tag '!') are always strings.
        if (scalar.Style != ScalarStyle.Plain || scalar.Tag.IsNonSpecific)
        {
            return YamlScalarKind.String;
        }

        string text = scalar.Value ?? string.Empty;
        if (text.Length == 0 || NullPattern().IsMatch(text))
        {
            return YamlScalarKind.Null;
        }

        if (BooleanPattern().IsMatch(text))
        {
            return YamlScalarKind.Boolean;
        }

        if (IntegerPattern().IsMatch(text))
        {
            return YamlScalarKind.Integer;
        }

        return FloatPattern().IsMatch(text) ? YamlScalarKind.Float : YamlScalarKind.String;
    }

    /// <summary>True for a plain empty scalar (<c>key:</c> with nothing after it), which has no useful position.</summary>
    public static bool IsAbsent(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" } scalar && scalar.Tag.IsEmpty;

    /// <summary>Parses an integer scalar (decimal, 0o octal or 0x hex) of any size.</summary>
    public static BigInteger ParseInteger(string text)
    {
        bool negative = text.StartsWith('-');
        string digits = text.TrimStart('-', '+');
        BigInteger value;
        if (digits.StartsWith("0x", StringComparison.Ordinal))
        {
            value = BigInteger.Parse("0" + digits[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }
        else if (digits.StartsWith("0o", StringComparison.Ordinal))
        {
            value = digits[2..].Aggregate(BigInteger.Zero, (acc, c) => (acc * 8) + (c - '0'));
        }
        else
        {
            value = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return negative ? -value : value;
    }

    /// <summary>Parses a float scalar of the core schema, including .inf and .nan.</summary>
    public static double ParseFloat(string text)
    {
        string lower = text.ToLowerInvariant();
        return lower switch
        {
            ".inf" or "+.inf" => double.PositiveInfinity,
            "-.inf" => double.NegativeInfinity,
            ".nan" => double.NaN,
            _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Words a node for a message: "the integer 5", "the string 'yes please'", "a list", ….</summary>
    public static string Describe(YamlNode node)
    {
        switch (node)
        {
            case YamlSequenceNode:
                return "a list";
            case YamlMappingNode:
                return "a mapping";
            case YamlScalarNode scalar:
                string text = Shorten(scalar.Value ?? string.Empty);
                return KindOf(scalar) switch
                {
                    YamlScalarKind.Null => "empty",
                    YamlScalarKind.Boolean => $"the boolean {text}",
                    YamlScalarKind.Integer => $"the integer {text}",
                    YamlScalarKind.Float => $"the number {text}",
                    YamlScalarKind.CustomTag => $"a value with the tag '{scalar.Tag.Value}'",
                    _ => $"the string '{text}'",
                };
            default:
                return "an alias";
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");

    [GeneratedRegex("^(~|null|Null|NULL)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex("^(true|True|TRUE|false|False|FALSE)$")]
    private static partial Regex BooleanPattern();

    [GeneratedRegex("^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?(\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN)$")]
    private static partial Regex FloatPattern();
}
