using Compress.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads the options of a <c>float16</c> pass; every option is optional, so no options at all is valid.</summary>
internal static class Float16OptionsReader
{
    /// <summary>Reads the options (null <paramref name="options"/>: a bare <c>- float16</c>); null when any was reported.</summary>
    public static Float16PassSpec? Read(SpecNodeReader reader, YamlScalarNode passKey, YamlNode? options)
    {
        var defaults = new Float16PassSpec();
        if (options is null || YamlValues.IsAbsent(options))
        {
            return new Float16PassSpec { Location = reader.Locate(passKey.Start) };
        }

        if (options is not YamlMappingNode mapping)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                options.Start,
                $"The options of '{Float16PassSpec.PassKind}' must be a mapping, e.g. 'float16: {{ keep_io_types: true }}', but they are {YamlValues.Describe(options)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        bool keepIoTypes = defaults.KeepIoTypes;
        IReadOnlyList<string> opBlockList = defaults.OpBlockList, nodeBlockList = defaults.NodeBlockList;
        foreach (MappingEntry entry in reader.KnownEntries(mapping, SpecKeys.Float16Options, $"in {Float16PassSpec.PassKind} options", out _))
        {
            switch (entry.Key)
            {
                case SpecKeys.KeepIoTypes:
                    reader.TryReadBoolean(entry, out keepIoTypes);
                    break;
                case SpecKeys.OpBlockList:
                    opBlockList = ReadOpTypes(reader, entry) ?? opBlockList;
                    break;
                case SpecKeys.NodeBlockList:
                    nodeBlockList = reader.TryReadStringList(entry, "node-name globs", out List<string> globs) ? globs : nodeBlockList;
                    break;
            }
        }

        return reader.ErrorCount > errorsBefore
            ? null
            : new Float16PassSpec
            {
                Location = reader.Locate(passKey.Start),
                KeepIoTypes = keepIoTypes,
                OpBlockList = opBlockList,
                NodeBlockList = nodeBlockList,
            };
    }

    /// <summary>Op type names; an empty list is valid here (block nothing), unlike op_types_to_quantize.</summary>
    private static List<string>? ReadOpTypes(SpecNodeReader reader, MappingEntry entry)
    {
        if (!reader.TryReadStringList(entry, "op type names", out List<string> opTypes))
        {
            return null;
        }

        var sequence = (YamlSequenceNode)entry.Value;
        bool ok = true;
        for (int i = 0; i < opTypes.Count; i++)
        {
            if (!QuantizeOptionsReader.OpTypePattern().IsMatch(opTypes[i]))
            {
                reader.Error(DiagnosticCodes.InvalidValue, sequence.Children[i].Start, $"'{opTypes[i]}' is not an ONNX op type name (such as Resize or TopK).");
                ok = false;
            }
        }

        return ok ? opTypes.Distinct(StringComparer.Ordinal).ToList() : null;
    }
}
