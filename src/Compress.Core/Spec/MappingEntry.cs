using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>One <c>key: value</c> of a YAML mapping, with the positions messages point at.</summary>
internal sealed record MappingEntry(string Key, YamlScalarNode KeyNode, YamlNode Value)
{
    /// <summary>Where to report a problem with the value: the value itself, or the key when the value is empty.</summary>
    public Mark ValueMark => YamlValues.IsAbsent(Value) ? KeyNode.Start : Value.Start;
}
