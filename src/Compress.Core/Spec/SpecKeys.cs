namespace Compress.Core.Spec;

/// <summary>
/// Every key and enum spelling the v1 loader accepts, in one place: the loader validates against these
/// lists and a test checks that compress.schema.yaml documents exactly them.
/// </summary>
internal static class SpecKeys
{
    public const string Version = "version";
    public const string Models = "models";

    public const string Name = "name";
    public const string Source = "source";
    public const string Output = "output";
    public const string Passes = "passes";

    public const string Mode = "mode";
    public const string PerChannel = "per_channel";
    public const string ReduceRange = "reduce_range";
    public const string WeightType = "weight_type";
    public const string OpTypesToQuantize = "op_types_to_quantize";
    public const string NodesToQuantize = "nodes_to_quantize";
    public const string NodesToExclude = "nodes_to_exclude";

    /// <summary>The spec format version this loader reads.</summary>
    public const int SupportedVersion = 1;

    public static IReadOnlyList<string> TopLevel { get; } = [Version, Models];

    public static IReadOnlyList<string> Model { get; } = [Name, Source, Output, Passes];

    /// <summary>Pass names: the single key of each entry of <c>passes</c>.</summary>
    public static IReadOnlyList<string> PassKinds { get; } = [QuantizePassSpec.PassKind];

    public static IReadOnlyList<string> QuantizeOptions { get; } =
        [Mode, PerChannel, ReduceRange, WeightType, OpTypesToQuantize, NodesToQuantize, NodesToExclude];

    /// <summary>YAML spellings of <see cref="QuantizationMode"/>, exact (lower case).</summary>
    public static IReadOnlyList<KeyValuePair<string, QuantizationMode>> Modes { get; } =
    [
        new("dynamic", QuantizationMode.Dynamic),
        new("static", QuantizationMode.Static),
        new("weight_only", QuantizationMode.WeightOnly),
    ];

    /// <summary>YAML spellings of <see cref="QuantType"/>, compared case-insensitively.</summary>
    public static IReadOnlyList<KeyValuePair<string, QuantType>> QuantTypes { get; } =
    [
        new("QInt8", QuantType.QInt8),
        new("QUInt8", QuantType.QUInt8),
        new("int8", QuantType.QInt8),
        new("uint8", QuantType.QUInt8),
    ];
}
