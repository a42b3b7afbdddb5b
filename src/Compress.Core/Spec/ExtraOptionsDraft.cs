namespace Compress.Core.Spec;

/// <summary>The <c>extra_options</c> of a quantize pass as written, keyed by ORT's CamelCase names.</summary>
internal sealed class ExtraOptionsDraft
{
    public Dictionary<string, WrittenValue<bool>> Flags { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, WrittenValue<double>> Numbers { get; } = new(StringComparer.Ordinal);

    public bool? Flag(string key) => Flags.TryGetValue(key, out WrittenValue<bool>? written) ? written.Value : null;

    public double? Number(string key) => Numbers.TryGetValue(key, out WrittenValue<double>? written) ? written.Value : null;

    /// <summary>The entry of a key that was read, for positions.</summary>
    public MappingEntry? EntryOf(string key) =>
        Flags.TryGetValue(key, out WrittenValue<bool>? flag) ? flag.Entry
        : Numbers.TryGetValue(key, out WrittenValue<double>? number) ? number.Entry
        : null;
}
