using Compress.Core.Diagnostics;
using Compress.Core.IO;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads the options of a <c>reconstruct</c> pass (see docs/compress-yaml.md, "reconstruct").</summary>
internal static class ReconstructOptionsReader
{
    /// <summary>Reads the options; null when any problem was reported.</summary>
    public static ReconstructPassSpec? Read(SpecNodeReader reader, string specDirectory, YamlScalarNode passKey, YamlNode? options)
    {
        if (options is not YamlMappingNode mapping)
        {
            reader.Error(
                options is null || YamlValues.IsAbsent(options) ? DiagnosticCodes.MissingKey : DiagnosticCodes.WrongType,
                options?.Start ?? passKey.Start,
                $"The options of '{ReconstructPassSpec.PassKind}' must be a mapping with the data to refit on, e.g. 'reconstruct: {{ data: data/calib.npy }}'.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, PruneKeys.ReconstructOptions, $"in {ReconstructPassSpec.PassKind} options", out HashSet<string> misspelt);
        List<string>? data = null;
        int samples = ReconstructPassSpec.DefaultSamples, batchSize = ReconstructPassSpec.DefaultBatchSize;
        double damping = ReconstructPassSpec.DefaultDamping;
        IReadOnlyList<string> exclude = [];
        foreach (MappingEntry entry in entries)
        {
            switch (entry.Key)
            {
                case PruneKeys.Data:
                    data = ReadData(reader, specDirectory, entry);
                    break;
                case PruneKeys.Samples:
                    reader.TryReadInteger(entry, 1, 1_000_000, out samples);
                    break;
                case PruneKeys.BatchSize:
                    reader.TryReadInteger(entry, 1, 65_536, out batchSize);
                    break;
                case PruneKeys.Damping:
                    reader.TryReadNumber(entry, d => d is > 0 and <= 1000, "0 < damping ≤ 1000", out damping);
                    break;
                case PruneKeys.NodesToExclude when reader.TryReadStringList(entry, "node-name globs", out List<string> globs):
                    exclude = globs;
                    break;
            }
        }

        if (!entries.Any(e => e.Key == PruneKeys.Data) && !misspelt.Contains(PruneKeys.Data))
        {
            reader.Error(DiagnosticCodes.MissingKey, passKey.Start, "'reconstruct' needs 'data': the .npy/.npz file(s) to refit on, e.g. 'data: data/calib.npy'.");
        }

        return reader.ErrorCount > errorsBefore || data is null
            ? null
            : new ReconstructPassSpec
            {
                Location = reader.Locate(passKey.Start),
                DataPaths = data,
                Samples = samples,
                BatchSize = batchSize,
                Damping = damping,
                NodesToExclude = exclude,
            };
    }

    /// <summary>A path, glob or list of them, relative to the spec; each must match something (also read by <c>prune</c>).</summary>
    internal static List<string>? ReadData(SpecNodeReader reader, string specDirectory, MappingEntry entry, string what = "Reconstruction data")
    {
        List<YamlNode> items = entry.Value is YamlSequenceNode sequence ? [.. sequence.Children] : [entry.Value];
        if (items.Count == 0 || items.Any(i => !SpecNodeReader.IsString(i) || ((YamlScalarNode)i).Value is not { Length: > 0 }))
        {
            reader.Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be a path, a glob or a list of them (relative to this file), e.g. data/calib.npy.");
            return null;
        }

        var paths = new List<string>();
        foreach (YamlScalarNode item in items.Cast<YamlScalarNode>())
        {
            string written = item.Value!;
            string full = Path.GetFullPath(Path.Combine(specDirectory, written.Replace('\\', '/').Replace('/', Path.DirectorySeparatorChar)));
            bool exists = PathGlob.IsGlob(written) ? PathGlob.Expand(full).Count > 0 : File.Exists(full) || Directory.Exists(full);
            if (!exists)
            {
                reader.Error(DiagnosticCodes.DataFileMissing, item.Start, $"{what} '{written}' was not found (looked for '{full}').");
                return null;
            }

            paths.Add(full);
        }

        return paths;
    }
}
