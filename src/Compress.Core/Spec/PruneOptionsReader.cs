using Compress.Core.Diagnostics;
using Compress.Core.Passes;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads the options of a <c>prune</c> pass (see docs/compress-yaml.md, "prune").</summary>
internal static class PruneOptionsReader
{
    /// <summary>Reads the options; null when any problem was reported.</summary>
    public static PrunePassSpec? Read(SpecNodeReader reader, string specDirectory, YamlScalarNode passKey, YamlNode? options)
    {
        if (options is not YamlMappingNode mapping)
        {
            reader.Error(
                options is null || YamlValues.IsAbsent(options) ? DiagnosticCodes.MissingKey : DiagnosticCodes.WrongType,
                options?.Start ?? passKey.Start,
                $"The options of '{PrunePassSpec.PassKind}' must be a mapping, e.g. 'prune: {{ method: magnitude, sparsity: 0.5 }}'.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, PruneKeys.PruneOptions, $"in {PrunePassSpec.PassKind} options", out HashSet<string> misspelt);
        MappingEntry? methodEntry = entries.FirstOrDefault(e => e.Key == PruneKeys.Method);
        if (methodEntry is null)
        {
            if (!misspelt.Contains(PruneKeys.Method))
            {
                reader.Error(DiagnosticCodes.MissingKey, passKey.Start, "'prune' needs 'method: magnitude' or 'method: structured'.");
            }

            return null;
        }

        if (!reader.TryReadEnum(methodEntry, PruneKeys.Methods, StringComparison.Ordinal, "pruning method", out PruneMethod method))
        {
            return null;
        }

        double? sparsity = null, threshold = null, ratio = null;
        MagnitudePruningPattern? pattern = null;
        MagnitudePruningScope scope = MagnitudePruningScope.PerLayer;
        StructuredPruningNorm norm = StructuredPruningNorm.L2;
        int channelMultiple = StructuredPruningOptions.DefaultChannelMultiple;
        StructuredPruningImportance importance = StructuredPruningImportance.Weights;
        List<string>? data = null;
        int samples = ReconstructPassSpec.DefaultSamples;
        IReadOnlyList<string> opTypes = ["Conv", "MatMul", "Gemm"], exclude = [];
        foreach (MappingEntry entry in entries)
        {
            if (PruneKeys.MethodOnlyKeys.TryGetValue(entry.Key, out PruneMethod only) && only != method)
            {
                reader.Error(DiagnosticCodes.KeyNotApplicable, entry.KeyNode.Start, $"'{entry.Key}' applies to 'method: {Name(only)}' only, not to 'method: {Name(method)}'.");
                continue;
            }

            double number;
            switch (entry.Key)
            {
                case PruneKeys.Sparsity when reader.TryReadNumber(entry, s => s is >= 0 and < 1, "0 ≤ sparsity < 1", out number):
                    sparsity = number;
                    break;
                case PruneKeys.Threshold when reader.TryReadNumber(entry, t => t >= 0, "threshold ≥ 0", out number):
                    threshold = number;
                    break;
                case PruneKeys.Ratio when reader.TryReadNumber(entry, r => r is > 0 and < 1, "0 < ratio < 1", out number):
                    ratio = number;
                    break;
                case PruneKeys.Pattern when reader.TryReadString(entry, "an N:M pattern such as \"2:4\"", out string text):
                    pattern = MagnitudePruningPattern.TryParse(text);
                    if (pattern is null)
                    {
                        reader.Error(DiagnosticCodes.InvalidValue, entry.ValueMark, $"'{text}' is not an N:M pattern with 1 ≤ N < M ≤ 64, such as \"2:4\".");
                    }

                    break;
                case PruneKeys.Scope:
                    reader.TryReadEnum(entry, PruneKeys.Scopes, StringComparison.Ordinal, "scope", out scope);
                    break;
                case PruneKeys.Norm:
                    reader.TryReadEnum(entry, PruneKeys.Norms, StringComparison.OrdinalIgnoreCase, "norm", out norm);
                    break;
                case PruneKeys.ChannelMultiple when reader.TryReadInteger(entry, 1, 1024, out int multiple):
                    channelMultiple = multiple;
                    break;
                case PruneKeys.Importance:
                    reader.TryReadEnum(entry, PruneKeys.Importances, StringComparison.Ordinal, "importance", out importance);
                    break;
                case PruneKeys.Data:
                    data = ReconstructOptionsReader.ReadData(reader, specDirectory, entry, "Pruning data");
                    break;
                case PruneKeys.Samples:
                    reader.TryReadInteger(entry, 1, 1_000_000, out samples);
                    break;
                case PruneKeys.OpTypes when reader.TryReadStringList(entry, "op type names", out List<string> types):
                    opTypes = types;
                    break;
                case PruneKeys.NodesToExclude when reader.TryReadStringList(entry, "node-name globs", out List<string> globs):
                    exclude = globs;
                    break;
            }
        }

        string[] criteria = [.. entries.Where(e => e.Key is PruneKeys.Sparsity or PruneKeys.Threshold or PruneKeys.Pattern).Select(e => e.Key)];
        if (method == PruneMethod.Magnitude && criteria.Length != 1 && reader.ErrorCount == errorsBefore && misspelt.Count == 0)
        {
            MappingEntry? second = criteria.Length > 1 ? entries.First(e => e.Key == criteria[1]) : null;
            reader.Error(
                criteria.Length == 0 ? DiagnosticCodes.MissingKey : DiagnosticCodes.ConflictingOptions,
                second?.KeyNode.Start ?? passKey.Start,
                criteria.Length == 0
                    ? "'method: magnitude' needs one of 'sparsity', 'threshold' or 'pattern'."
                    : $"'method: magnitude' takes one of 'sparsity', 'threshold' or 'pattern', but this pass has {string.Join(" and ", criteria.Select(c => $"'{c}'"))}.");
        }

        if (method == PruneMethod.Structured && ratio is null && !entries.Any(e => e.Key == PruneKeys.Ratio) && !misspelt.Contains(PruneKeys.Ratio))
        {
            reader.Error(DiagnosticCodes.MissingKey, passKey.Start, "'method: structured' needs 'ratio', the fraction of each layer's outputs to remove, e.g. 'ratio: 0.25'.");
        }

        // Activation importance measures the consuming layers on data; weight norms need none.
        MappingEntry? dataEntry = entries.FirstOrDefault(e => e.Key is PruneKeys.Data or PruneKeys.Samples);
        if (reader.ErrorCount == errorsBefore && misspelt.Count == 0)
        {
            if (method == PruneMethod.Magnitude && importance == StructuredPruningImportance.Activations && threshold is not null)
            {
                reader.Error(DiagnosticCodes.ConflictingOptions, entries.First(e => e.Key == PruneKeys.Importance).KeyNode.Start, "'importance: activations' ranks weights for a 'sparsity' or a 'pattern'; 'threshold' bounds |w| itself, so it takes no importance.");
            }
            else if (importance == StructuredPruningImportance.Activations && !entries.Any(e => e.Key == PruneKeys.Data))
            {
                reader.Error(DiagnosticCodes.MissingKey, entries.First(e => e.Key == PruneKeys.Importance).KeyNode.Start, "'importance: activations' needs 'data': the .npy/.npz file(s) the consuming layers are measured on, e.g. 'data: data/calib.npy'.");
            }
            else if (importance == StructuredPruningImportance.Weights && dataEntry is not null)
            {
                reader.Error(DiagnosticCodes.ConflictingOptions, dataEntry.KeyNode.Start, $"'{dataEntry.Key}' is used only with 'importance: activations'; weight-norm importance needs no data.");
            }

            // A global share is decided by the measured cost of each layer's channels, which weight norms do not give.
            if (method == PruneMethod.Structured && reader.ErrorCount == errorsBefore && scope == MagnitudePruningScope.Global && importance != StructuredPruningImportance.Activations)
            {
                reader.Error(DiagnosticCodes.ConflictingOptions, entries.First(e => e.Key == PruneKeys.Scope).ValueMark, "'scope: global' with 'method: structured' shares the channels by their measured cost, so it needs 'importance: activations' and 'data'.");
            }
        }

        return reader.ErrorCount > errorsBefore
            ? null
            : new PrunePassSpec
            {
                Location = reader.Locate(passKey.Start),
                Method = method,
                Sparsity = sparsity,
                Threshold = threshold,
                Pattern = pattern,
                Scope = scope,
                Ratio = ratio,
                Norm = norm,
                ChannelMultiple = channelMultiple,
                Importance = importance,
                DataPaths = data ?? [],
                Samples = samples,
                OpTypes = opTypes,
                NodesToExclude = exclude,
            };
    }

    private static string Name(PruneMethod method) => PruneKeys.Methods.First(m => m.Value == method).Key;
}
