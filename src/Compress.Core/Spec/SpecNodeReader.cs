using System.Globalization;
using System.Numerics;
using Compress.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Reads typed values out of YAML nodes and records one error per mistake, positioned at the offending
/// key or value. Every TryRead method either returns true or has reported exactly one error.
/// </summary>
internal sealed class SpecNodeReader(string file)
{
    private readonly List<Diagnostic> diagnostics = [];

    public string File { get; } = file;

    public IReadOnlyList<Diagnostic> Diagnostics => diagnostics;

    public int ErrorCount => diagnostics.Count(d => d.IsError);

    public void Error(string code, Mark at, string message) =>
        diagnostics.Add(Diagnostic.Error(code, message, File, (int)at.Line, (int)at.Column));

    public SourceLocation Locate(Mark at) => new(File, (int)at.Line, (int)at.Column);

    /// <summary>
    /// The entries of a mapping whose keys are in <paramref name="allowedKeys"/>; reports every other key
    /// (with a spelling suggestion) and every key that is not a plain name.
    /// </summary>
    /// <param name="mapping">The mapping to read.</param>
    /// <param name="allowedKeys">The keys valid in this mapping.</param>
    /// <param name="where">Words the place for messages, e.g. "in quantize options".</param>
    /// <param name="misspelt">
    /// Receives the keys suggested for unknown keys: a missing required key that was misspelt has already
    /// been reported, so callers do not report it as missing too.
    /// </param>
    public List<MappingEntry> KnownEntries(YamlMappingNode mapping, IReadOnlyList<string> allowedKeys, string where, out HashSet<string> misspelt) =>
        KnownEntries(Entries(mapping), allowedKeys, where, out misspelt);

    /// <inheritdoc cref="KnownEntries(YamlMappingNode, IReadOnlyList{string}, string, out HashSet{string})"/>
    public List<MappingEntry> KnownEntries(List<MappingEntry> entries, IReadOnlyList<string> allowedKeys, string where, out HashSet<string> misspelt)
    {
        var known = new List<MappingEntry>();
        misspelt = new HashSet<string>(StringComparer.Ordinal);
        foreach (MappingEntry entry in entries)
        {
            if (allowedKeys.Contains(entry.Key, StringComparer.Ordinal))
            {
                known.Add(entry);
            }
            else if (ReportUnknown(entry.KeyNode, $"Unknown key '{entry.Key}' {where}.", allowedKeys, "Allowed keys") is { } suggestion)
            {
                misspelt.Add(suggestion);
            }
        }

        return known;
    }

    /// <summary>All entries of a mapping with scalar keys; other keys are reported as wrong type.</summary>
    public List<MappingEntry> Entries(YamlMappingNode mapping)
    {
        var entries = new List<MappingEntry>();
        foreach (KeyValuePair<YamlNode, YamlNode> pair in mapping.Children)
        {
            if (pair.Key is YamlScalarNode key && YamlValues.KindOf(key) != YamlScalarKind.Null)
            {
                entries.Add(new MappingEntry(key.Value ?? string.Empty, key, pair.Value));
            }
            else
            {
                Error(DiagnosticCodes.WrongType, pair.Key.Start, $"Keys must be plain names, but this key is {YamlValues.Describe(pair.Key)}.");
            }
        }

        return entries;
    }

    /// <summary>Reports an unknown word with "Did you mean …?" or, failing that, the list of known words.</summary>
    /// <returns>The suggested word, or null.</returns>
    public string? ReportUnknown(YamlNode at, string message, IReadOnlyList<string> known, string knownLabel)
    {
        string typed = at is YamlScalarNode scalar ? scalar.Value ?? string.Empty : string.Empty;
        string? suggestion = SpellingSuggestion.Closest(typed, known);
        string hint = suggestion is not null
            ? $" Did you mean '{suggestion}'?"
            : $" {knownLabel}: {string.Join(", ", known)}.";
        Error(DiagnosticCodes.UnknownKey, at.Start, message + hint);
        return suggestion;
    }

    public bool TryReadBoolean(MappingEntry entry, out bool value)
    {
        value = false;
        if (entry.Value is YamlScalarNode scalar && YamlValues.KindOf(scalar) == YamlScalarKind.Boolean)
        {
            value = bool.Parse(scalar.Value!);
            return true;
        }

        string hint = entry.Value is YamlScalarNode { Value: "yes" or "no" or "on" or "off" or "Yes" or "No" or "On" or "Off" }
            ? " (YAML 1.2 reads yes/no/on/off as strings)"
            : string.Empty;
        Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be true or false, but it is {YamlValues.Describe(entry.Value)}{hint}.");
        return false;
    }

    /// <summary>Reads an integer and checks it fits in [<paramref name="minimum"/>, <paramref name="maximum"/>] (CMP0004).</summary>
    public bool TryReadInteger(MappingEntry entry, int minimum, int maximum, out int value)
    {
        value = 0;
        if (entry.Value is not YamlScalarNode scalar || YamlValues.KindOf(scalar) != YamlScalarKind.Integer)
        {
            Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be a whole number, but it is {YamlValues.Describe(entry.Value)}.");
            return false;
        }

        BigInteger parsed = YamlValues.ParseInteger(scalar.Value!);
        if (parsed < minimum || parsed > maximum)
        {
            Error(
                DiagnosticCodes.OutOfRange,
                entry.ValueMark,
                string.Create(CultureInfo.InvariantCulture, $"'{entry.Key}' is {scalar.Value}, out of the range {minimum} to {maximum}."));
            return false;
        }

        value = (int)parsed;
        return true;
    }

    /// <summary>Reads a non-empty string; <paramref name="what"/> explains the key in messages.</summary>
    public bool TryReadString(MappingEntry entry, string what, out string value)
    {
        value = string.Empty;
        if (!IsString(entry.Value))
        {
            Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be {what}, but it is {YamlValues.Describe(entry.Value)}.{QuoteHint(entry.Value)}");
            return false;
        }

        value = ((YamlScalarNode)entry.Value).Value ?? string.Empty;
        if (value.Length == 0)
        {
            Error(DiagnosticCodes.InvalidValue, entry.ValueMark, $"'{entry.Key}' must not be empty; it is {what}.");
            return false;
        }

        return true;
    }

    /// <summary>Reads a list of non-empty strings; reports each bad item (items are independent mistakes).</summary>
    public bool TryReadStringList(MappingEntry entry, string itemWhat, out List<string> values)
    {
        values = [];
        if (entry.Value is not YamlSequenceNode sequence)
        {
            Error(
                DiagnosticCodes.WrongType,
                entry.ValueMark,
                $"'{entry.Key}' must be a list of {itemWhat}, e.g. [a, b], but it is {YamlValues.Describe(entry.Value)}.");
            return false;
        }

        bool ok = true;
        foreach (YamlNode item in sequence.Children)
        {
            if (!IsString(item))
            {
                Error(DiagnosticCodes.WrongType, item.Start, $"Items of '{entry.Key}' must be {itemWhat}, but this one is {YamlValues.Describe(item)}.{QuoteHint(item)}");
                ok = false;
                continue;
            }

            string text = ((YamlScalarNode)item).Value ?? string.Empty;
            if (text.Length == 0)
            {
                Error(DiagnosticCodes.InvalidValue, item.Start, $"Items of '{entry.Key}' must not be empty.");
                ok = false;
                continue;
            }

            values.Add(text);
        }

        return ok;
    }

    /// <summary>
    /// Reads a finite number (an integer or a float scalar) and checks <paramref name="isInRange"/>; a value out of
    /// range is CMP0004 with <paramref name="rangeText"/> (e.g. "0 &lt; p ≤ 100") in the message.
    /// </summary>
    public bool TryReadNumber(MappingEntry entry, Func<double, bool> isInRange, string rangeText, out double value)
    {
        value = 0;
        if (entry.Value is not YamlScalarNode scalar || YamlValues.KindOf(scalar) is not (YamlScalarKind.Integer or YamlScalarKind.Float))
        {
            Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be a number, but it is {YamlValues.Describe(entry.Value)}.");
            return false;
        }

        string text = scalar.Value!;
        double parsed = YamlValues.KindOf(scalar) == YamlScalarKind.Integer
            ? (double)YamlValues.ParseInteger(text)
            : YamlValues.ParseFloat(text);
        if (!double.IsFinite(parsed) || !isInRange(parsed))
        {
            Error(DiagnosticCodes.OutOfRange, entry.ValueMark, $"'{entry.Key}' is {text}, out of the range {rangeText}.");
            return false;
        }

        value = parsed;
        return true;
    }

    /// <summary>
    /// Reads one word among <paramref name="spellings"/>; an unknown word is CMP0006 with the allowed values and
    /// a "Did you mean" suggestion.
    /// </summary>
    public bool TryReadEnum<T>(
        MappingEntry entry,
        IReadOnlyList<KeyValuePair<string, T>> spellings,
        StringComparison comparison,
        string what,
        out T value)
    {
        value = default!;
        if (entry.Value is not YamlScalarNode scalar)
        {
            Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be one word, but it is {YamlValues.Describe(entry.Value)}.");
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
        Error(
            DiagnosticCodes.BadEnumValue,
            entry.ValueMark,
            $"{problem} Allowed values: {string.Join(", ", allowed)}{casing}." +
            (suggestion is null ? string.Empty : $" Did you mean '{suggestion}'?"));
        return false;
    }

    public static bool IsString(YamlNode node) => node is YamlScalarNode scalar && YamlValues.KindOf(scalar) == YamlScalarKind.String;

    private static string QuoteHint(YamlNode node) =>
        node is YamlScalarNode scalar && YamlValues.KindOf(scalar) is YamlScalarKind.Integer or YamlScalarKind.Float or YamlScalarKind.Boolean
            ? $" Quote it to make it text: '{scalar.Value}'."
            : string.Empty;
}
