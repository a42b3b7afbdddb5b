using Compress.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Reads <c>extra_options</c>: the ORT <c>extra_options</c> dict with its CamelCase keys, each checked for type,
/// range and mode. ORT keys Compress does not implement are CMP0016; other keys CMP0002 with a suggestion.
/// </summary>
internal static class ExtraOptionsReader
{
    private static readonly HashSet<string> NumberKeys =
        new([SpecKeys.CalibMovingAverageConstant, SpecKeys.CalibPercentile, SpecKeys.MinimumRealRange], StringComparer.Ordinal);

    /// <summary>Reads the mapping; <paramref name="mode"/> is null when the pass's mode is unknown (then no mode checks).</summary>
    public static ExtraOptionsDraft Read(SpecNodeReader reader, MappingEntry entry, QuantizationMode? mode)
    {
        var draft = new ExtraOptionsDraft();
        if (YamlValues.IsAbsent(entry.Value))
        {
            return draft;
        }

        if (entry.Value is not YamlMappingNode mapping)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                entry.ValueMark,
                $"'{entry.Key}' must be a mapping of ORT extra options, e.g. '{entry.Key}: {{ ActivationSymmetric: true }}', but it is {YamlValues.Describe(entry.Value)}.");
            return draft;
        }

        foreach (MappingEntry option in reader.Entries(mapping))
        {
            if (!SpecKeys.ExtraOptionKeys.Contains(option.Key, StringComparer.Ordinal))
            {
                ReportUnknown(reader, option);
                continue;
            }

            QuantizationMode[] modes = SpecKeys.ExtraOptionModes[option.Key];
            if (mode is { } known && !modes.Contains(known))
            {
                reader.Error(
                    DiagnosticCodes.KeyNotApplicable,
                    option.KeyNode.Start,
                    $"Extra option '{option.Key}' is only valid for mode {SpecKeys.ModeNames(modes)}; this pass has mode {SpecKeys.ModeName(known)}.");
                continue;
            }

            if (NumberKeys.Contains(option.Key))
            {
                if (TryReadNumber(reader, option, out double number))
                {
                    draft.Numbers[option.Key] = new(number, option);
                }
            }
            else if (reader.TryReadBoolean(option, out bool flag))
            {
                draft.Flags[option.Key] = new(flag, option);
            }
        }

        return draft;
    }

    private static bool TryReadNumber(SpecNodeReader reader, MappingEntry option, out double value) => option.Key switch
    {
        SpecKeys.CalibPercentile => CalibrationOptionsReader.TryReadPercentile(reader, option, out value),
        SpecKeys.CalibMovingAverageConstant => CalibrationOptionsReader.TryReadMovingAverageConstant(reader, option, out value),
        _ => reader.TryReadNumber(option, v => v is > 0 and <= float.MaxValue, "0 < value ≤ 3.4e38", out value),
    };

    private static void ReportUnknown(SpecNodeReader reader, MappingEntry option)
    {
        if (SpecKeys.UnsupportedExtraOptions.TryGetValue(option.Key, out string? hint))
        {
            reader.Error(
                DiagnosticCodes.NotSupportedInThisVersion,
                option.KeyNode.Start,
                $"ORT extra option '{option.Key}' is not supported by this version of Compress.{hint}");
            return;
        }

        reader.ReportUnknown(option.KeyNode, $"Unknown extra option '{option.Key}'.", SpecKeys.ExtraOptionKeys, "Supported extra options");
    }
}
