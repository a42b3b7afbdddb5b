using System.Text.RegularExpressions;
using Compress.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads the options mapping of a <c>quantize</c> pass into a <see cref="QuantizePassSpec"/>.</summary>
internal static partial class QuantizeOptionsReader
{
    /// <summary>Reads the options; returns null when any of them was reported as an error.</summary>
    /// <param name="reader">Collects the diagnostics.</param>
    /// <param name="passKey">The <c>quantize</c> key: the pass's location, and where a missing mode is reported.</param>
    /// <param name="options">The value of the <c>quantize</c> key.</param>
    public static QuantizePassSpec? Read(SpecNodeReader reader, YamlScalarNode passKey, YamlNode options)
    {
        string kind = QuantizePassSpec.PassKind;
        if (YamlValues.IsAbsent(options))
        {
            reader.Error(DiagnosticCodes.MissingKey, passKey.Start, $"Pass '{kind}' is missing required key 'mode' ({ModeList}), e.g. '{kind}: {{ mode: dynamic }}'.");
            return null;
        }

        if (options is not YamlMappingNode mapping)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                options.Start,
                $"The options of '{kind}' must be a mapping, e.g. '{kind}: {{ mode: dynamic }}', but they are {YamlValues.Describe(options)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, SpecKeys.QuantizeOptions, $"in {kind} options", out HashSet<string> misspelt);
        var defaults = new QuantizePassSpec();
        QuantizationMode mode = defaults.Mode;
        bool perChannel = defaults.PerChannel, reduceRange = defaults.ReduceRange;
        QuantType weightType = defaults.WeightType;
        IReadOnlyList<string> opTypes = defaults.OpTypesToQuantize, nodesToQuantize = [], nodesToExclude = [];
        bool modeSeen = false;

        foreach (MappingEntry entry in entries)
        {
            switch (entry.Key)
            {
                case SpecKeys.Mode:
                    modeSeen = true;
                    ReadMode(reader, entry, ref mode);
                    break;
                case SpecKeys.PerChannel:
                    reader.TryReadBoolean(entry, out perChannel);
                    break;
                case SpecKeys.ReduceRange:
                    reader.TryReadBoolean(entry, out reduceRange);
                    break;
                case SpecKeys.WeightType:
                    ReadWeightType(reader, entry, ref weightType);
                    break;
                case SpecKeys.OpTypesToQuantize:
                    opTypes = ReadOpTypes(reader, entry) ?? opTypes;
                    break;
                case SpecKeys.NodesToQuantize:
                    nodesToQuantize = reader.TryReadStringList(entry, "node names", out List<string> names) ? names : [];
                    break;
                case SpecKeys.NodesToExclude:
                    nodesToExclude = reader.TryReadStringList(entry, "node-name globs", out List<string> globs) ? globs : [];
                    break;
            }
        }

        if (!modeSeen && !misspelt.Contains(SpecKeys.Mode))
        {
            reader.Error(DiagnosticCodes.MissingKey, passKey.Start, $"Pass '{kind}' is missing required key 'mode' ({ModeList}).");
        }

        if (reader.ErrorCount > errorsBefore)
        {
            return null;
        }

        return new QuantizePassSpec
        {
            Location = reader.Locate(passKey.Start),
            Mode = mode,
            PerChannel = perChannel,
            ReduceRange = reduceRange,
            WeightType = weightType,
            OpTypesToQuantize = opTypes,
            NodesToQuantize = nodesToQuantize,
            NodesToExclude = nodesToExclude,
        };
    }

    private static string ModeList => string.Join(" | ", SpecKeys.Modes.Select(m => m.Key));

    private static void ReadMode(SpecNodeReader reader, MappingEntry entry, ref QuantizationMode mode)
    {
        if (!TryReadEnum(reader, entry, SpecKeys.Modes, StringComparison.Ordinal, "mode", out QuantizationMode parsed))
        {
            return;
        }

        if (parsed != QuantizationMode.Dynamic)
        {
            // In the schema so editors know the word, but not implemented by this version.
            reader.Error(
                DiagnosticCodes.NotSupportedInThisVersion,
                entry.ValueMark,
                $"Quantization mode '{((YamlScalarNode)entry.Value).Value}' is not supported in this version of Compress yet; use 'mode: dynamic'.");
            return;
        }

        mode = parsed;
    }

    private static void ReadWeightType(SpecNodeReader reader, MappingEntry entry, ref QuantType weightType)
    {
        if (TryReadEnum(reader, entry, SpecKeys.QuantTypes, StringComparison.OrdinalIgnoreCase, "weight type", out QuantType parsed))
        {
            weightType = parsed;
        }
    }

    private static bool TryReadEnum<T>(
        SpecNodeReader reader,
        MappingEntry entry,
        IReadOnlyList<KeyValuePair<string, T>> spellings,
        StringComparison comparison,
        string what,
        out T value)
    {
        value = default!;
        if (entry.Value is not YamlScalarNode scalar)
        {
            reader.Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be one word, but it is {YamlValues.Describe(entry.Value)}.");
            return false;
        }

        string text = scalar.Value ?? string.Empty;
        foreach (KeyValuePair<string, T> spelling in spellings)
        {
            if (YamlValues.KindOf(scalar) == YamlScalarKind.String && string.Equals(spelling.Key, text, comparison))
            {
                value = spelling.Value;
                return true;
            }
        }

        List<string> allowed = spellings.Select(s => s.Key).ToList();
        string? suggestion = text.Length == 0 ? null : SpellingSuggestion.Closest(text, allowed);
        string casing = comparison == StringComparison.OrdinalIgnoreCase ? " (case-insensitive)" : string.Empty;
        string problem = text.Length == 0 ? $"'{entry.Key}' is empty." : $"Unknown {what} '{text}' for '{entry.Key}'.";
        reader.Error(
            DiagnosticCodes.BadEnumValue,
            entry.ValueMark,
            $"{problem} Allowed values: {string.Join(", ", allowed)}{casing}." +
            (suggestion is null ? string.Empty : $" Did you mean '{suggestion}'?"));
        return false;
    }

    private static List<string>? ReadOpTypes(SpecNodeReader reader, MappingEntry entry)
    {
        if (!reader.TryReadStringList(entry, "op type names", out List<string> opTypes))
        {
            return null;
        }

        if (opTypes.Count == 0)
        {
            reader.Error(
                DiagnosticCodes.InvalidValue,
                entry.ValueMark,
                $"'{entry.Key}' must name at least one op type; leave the key out for the default [{string.Join(", ", QuantizePassSpec.DefaultOpTypesToQuantize)}].");
            return null;
        }

        var sequence = (YamlSequenceNode)entry.Value;
        bool ok = true;
        for (int i = 0; i < opTypes.Count; i++)
        {
            if (!OpTypePattern().IsMatch(opTypes[i]))
            {
                Mark at = sequence.Children[i].Start;
                reader.Error(DiagnosticCodes.InvalidValue, at, $"'{opTypes[i]}' is not an ONNX op type name (such as MatMul or Gemm).");
                ok = false;
            }
        }

        return ok ? opTypes.Distinct(StringComparer.Ordinal).ToList() : null;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex OpTypePattern();
}
