using Compress.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads <c>node_overrides</c>: a list of <c>{ nodes: glob, exclude | activation_type | weight_type | per_channel }</c>.</summary>
internal static class NodeOverridesReader
{
    private const string Example = "node_overrides: [{ nodes: '/head/*', exclude: true }]";

    /// <summary>The entries read without errors, in file order.</summary>
    public static List<NodeOverrideDraft> Read(SpecNodeReader reader, MappingEntry entry)
    {
        var drafts = new List<NodeOverrideDraft>();
        if (YamlValues.IsAbsent(entry.Value))
        {
            return drafts;
        }

        if (entry.Value is not YamlSequenceNode sequence)
        {
            reader.Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be a list, e.g. '{Example}', but it is {YamlValues.Describe(entry.Value)}.");
            return drafts;
        }

        foreach (YamlNode item in sequence.Children)
        {
            if (ReadEntry(reader, item) is { } draft)
            {
                drafts.Add(draft);
            }
        }

        return drafts;
    }

    private static NodeOverrideDraft? ReadEntry(SpecNodeReader reader, YamlNode item)
    {
        if (item is not YamlMappingNode mapping)
        {
            reader.Error(DiagnosticCodes.WrongType, item.Start, $"Each entry of 'node_overrides' must be a mapping, e.g. '{{ nodes: \"/head/*\", exclude: true }}', but this one is {YamlValues.Describe(item)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, SpecKeys.NodeOverrideOptions, "in a node_overrides entry", out HashSet<string> misspelt);
        string? nodes = null;
        bool? exclude = null, perChannel = null;
        QuantType? activationType = null, weightType = null;
        MappingEntry? activationEntry = null, weightEntry = null;
        foreach (MappingEntry option in entries)
        {
            switch (option.Key)
            {
                case SpecKeys.Nodes:
                    nodes = reader.TryReadString(option, "a node-name glob such as '/head/*'", out string glob) ? glob : null;
                    break;
                case SpecKeys.Exclude:
                    exclude = reader.TryReadBoolean(option, out bool excluded) ? excluded : null;
                    break;
                case SpecKeys.PerChannel:
                    perChannel = reader.TryReadBoolean(option, out bool channel) ? channel : null;
                    break;
                case SpecKeys.ActivationType:
                    activationEntry = option;
                    activationType = QuantizeOptionsReader.TryReadQuantType(reader, option, QuantizationMode.Static, out QuantType activation) ? activation : null;
                    break;
                case SpecKeys.WeightType:
                    weightEntry = option;
                    weightType = QuantizeOptionsReader.TryReadQuantType(reader, option, QuantizationMode.Static, out QuantType weight) ? weight : null;
                    break;
            }
        }

        if (!entries.Any(e => e.Key == SpecKeys.Nodes) && !misspelt.Contains(SpecKeys.Nodes))
        {
            reader.Error(DiagnosticCodes.MissingKey, mapping.Start, "A 'node_overrides' entry is missing required key 'nodes': the node-name glob it applies to.");
        }
        else if (entries.Count == 1 && entries[0].Key == SpecKeys.Nodes)
        {
            reader.Error(
                DiagnosticCodes.MissingKey,
                mapping.Start,
                "A 'node_overrides' entry needs at least one of 'exclude', 'activation_type', 'weight_type' or 'per_channel' besides 'nodes'.");
        }

        if (exclude == true && (activationEntry ?? weightEntry ?? entries.FirstOrDefault(e => e.Key == SpecKeys.PerChannel)) is { } pointless)
        {
            reader.Error(
                DiagnosticCodes.ConflictingOptions,
                pointless.KeyNode.Start,
                $"'{pointless.Key}' has no effect with 'exclude: true': excluded nodes stay float. Remove one of them.");
        }

        if (reader.ErrorCount > errorsBefore || nodes is null)
        {
            return null;
        }

        var spec = new NodeOverrideSpec
        {
            Nodes = nodes,
            Exclude = exclude,
            ActivationType = activationType,
            WeightType = weightType,
            PerChannel = perChannel,
            Location = reader.Locate(mapping.Start),
        };
        return new NodeOverrideDraft(spec, activationEntry, weightEntry);
    }
}
