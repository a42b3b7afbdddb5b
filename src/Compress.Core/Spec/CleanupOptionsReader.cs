using Compress.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads the options of a <c>cleanup</c> pass: switches that are all on unless turned off.</summary>
internal static class CleanupOptionsReader
{
    /// <summary>Reads the options (null <paramref name="options"/>: a bare <c>- cleanup</c>); null when any was reported.</summary>
    public static CleanupPassSpec? Read(SpecNodeReader reader, YamlScalarNode passKey, YamlNode? options)
    {
        if (options is null || YamlValues.IsAbsent(options))
        {
            return new CleanupPassSpec { Location = reader.Locate(passKey.Start) };
        }

        if (options is not YamlMappingNode mapping)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                options.Start,
                $"The options of '{CleanupPassSpec.PassKind}' must be a mapping, e.g. 'cleanup: {{ fold_constants: false }}', but they are {YamlValues.Describe(options)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        var values = SpecKeys.CleanupOptions.ToDictionary(k => k, _ => true, StringComparer.Ordinal);
        foreach (MappingEntry entry in reader.KnownEntries(mapping, SpecKeys.CleanupOptions, $"in {CleanupPassSpec.PassKind} options", out _))
        {
            if (reader.TryReadBoolean(entry, out bool value))
            {
                values[entry.Key] = value;
            }
        }

        return reader.ErrorCount > errorsBefore
            ? null
            : new CleanupPassSpec
            {
                Location = reader.Locate(passKey.Start),
                RemoveIdentity = values[SpecKeys.RemoveIdentity],
                RemoveDropout = values[SpecKeys.RemoveDropout],
                RemoveDeadNodes = values[SpecKeys.RemoveDeadNodes],
                FoldBatchNorm = values[SpecKeys.FoldBatchNorm],
                FoldConstants = values[SpecKeys.FoldConstants],
                FuseHardSwish = values[SpecKeys.FuseHardSwish],
            };
    }
}
