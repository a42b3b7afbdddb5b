using Compress.Core.Diagnostics;
using Compress.Core.IO;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads a model entry's <c>evaluate</c> block: data and labels (checked on disk), the output, the budget and on_failure.</summary>
internal static class EvaluateOptionsReader
{
    private const string Example = "evaluate: { data: data/val_x.npy, max_accuracy_drop: 0.01 }";

    /// <summary>The block, or null when it has errors (each reported once).</summary>
    public static EvaluateSpec? Read(SpecNodeReader reader, string specDirectory, MappingEntry entry)
    {
        if (entry.Value is not YamlMappingNode mapping)
        {
            reader.Error(
                YamlValues.IsAbsent(entry.Value) ? DiagnosticCodes.MissingKey : DiagnosticCodes.WrongType,
                entry.ValueMark,
                $"'{entry.Key}' must be a mapping with 'data' and a budget, e.g. '{Example}', but it is {YamlValues.Describe(entry.Value)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, EvaluateKeys.All, "in evaluate options", out HashSet<string> misspelt);
        List<string>? data = null;
        string? labels = null, output = null;
        int? samples = null, maxExcluded = null;
        bool tuneQuantization = false;
        int batchSize = EvaluateSpec.DefaultBatchSize, topK = EvaluateSpec.DefaultTopK;
        double threshold = EvaluateSpec.DefaultThreshold;
        var budget = new Dictionary<string, double>(StringComparer.Ordinal);
        EvaluateFailureAction onFailure = EvaluateFailureAction.Error;
        foreach (MappingEntry option in entries)
        {
            switch (option.Key)
            {
                case EvaluateKeys.Data:
                    data = ReadData(reader, specDirectory, option);
                    break;
                case EvaluateKeys.Labels:
                    labels = ReadLabels(reader, specDirectory, option);
                    break;
                case EvaluateKeys.Output:
                    if (reader.TryReadString(option, "the name of a model output", out string name))
                    {
                        output = name;
                    }

                    break;
                case EvaluateKeys.Samples:
                    if (reader.TryReadInteger(option, 1, int.MaxValue, out int count))
                    {
                        samples = count;
                    }

                    break;
                case EvaluateKeys.BatchSize:
                    if (reader.TryReadInteger(option, 1, int.MaxValue, out int batch))
                    {
                        batchSize = batch;
                    }

                    break;
                case EvaluateKeys.TopK:
                    if (reader.TryReadInteger(option, 1, int.MaxValue, out int k))
                    {
                        topK = k;
                    }

                    break;
                case EvaluateKeys.Threshold:
                    if (reader.TryReadNumber(option, double.IsFinite, "a finite number", out double t))
                    {
                        threshold = t;
                    }

                    break;
                case EvaluateKeys.MaxExcludedLayers:
                    if (reader.TryReadInteger(option, 1, int.MaxValue, out int layers))
                    {
                        maxExcluded = layers;
                    }

                    break;
                case EvaluateKeys.TuneQuantization:
                    if (reader.TryReadBoolean(option, out bool tune))
                    {
                        tuneQuantization = tune;
                    }

                    break;
                case EvaluateKeys.OnFailure:
                    if (reader.TryReadEnum(option, EvaluateKeys.FailureActions, StringComparison.Ordinal, "failure action", out EvaluateFailureAction action))
                    {
                        onFailure = action;
                    }

                    break;
                case EvaluateKeys.MaxAbsError or EvaluateKeys.MaxMeanAbsError or EvaluateKeys.MaxRelativeError:
                    if (reader.TryReadNumber(option, v => v >= 0, "≥ 0", out double limit))
                    {
                        budget[option.Key] = limit;
                    }

                    break;
                case EvaluateKeys.MinCosine:
                    if (reader.TryReadNumber(option, v => v is >= -1 and <= 1, "-1 ≤ cosine ≤ 1", out double cosine))
                    {
                        budget[option.Key] = cosine;
                    }

                    break;
                default:
                    // max_accuracy_drop, min_accuracy, min_agreement, min_mask_iou: fractions.
                    if (reader.TryReadNumber(option, v => v is >= 0 and <= 1, "0 ≤ fraction ≤ 1 (0.01 is one percentage point)", out double fraction))
                    {
                        budget[option.Key] = fraction;
                    }

                    break;
            }
        }

        if (!entries.Any(e => e.Key == EvaluateKeys.Data) && !misspelt.Contains(EvaluateKeys.Data))
        {
            reader.Error(DiagnosticCodes.MissingKey, entry.KeyNode.Start, $"'{entry.Key}' is missing required key 'data': the inputs to evaluate on, e.g. '{Example}'.");
        }

        bool budgetWritten = entries.Any(e => EvaluateKeys.BudgetKeys.Contains(e.Key)) || misspelt.Overlaps(EvaluateKeys.BudgetKeys);
        if (!budgetWritten)
        {
            reader.Error(
                DiagnosticCodes.MissingKey,
                entry.KeyNode.Start,
                $"'{entry.Key}' needs at least one budget key: {string.Join(", ", EvaluateKeys.BudgetKeys)}.");
        }

        if (entries.FirstOrDefault(e => e.Key is EvaluateKeys.MinAccuracy) is { } minAccuracy && labels is null
            && !entries.Any(e => e.Key == EvaluateKeys.Labels))
        {
            reader.Error(DiagnosticCodes.KeyNotApplicable, minAccuracy.KeyNode.Start, "'min_accuracy' needs 'labels': without labels only the comparison with the original is measured (use max_accuracy_drop or min_agreement).");
        }

        if (reader.ErrorCount > errorsBefore || data is null)
        {
            return null;
        }

        return new EvaluateSpec
        {
            DataPaths = data,
            LabelsPath = labels,
            Output = output,
            Samples = samples,
            BatchSize = batchSize,
            TopK = topK,
            Threshold = threshold,
            OnFailure = onFailure,
            MaxExcludedLayers = maxExcluded,
            TuneQuantization = tuneQuantization,
            Budget = new EvaluateBudgetSpec
            {
                MaxAccuracyDrop = Get(EvaluateKeys.MaxAccuracyDrop),
                MinAccuracy = Get(EvaluateKeys.MinAccuracy),
                MinAgreement = Get(EvaluateKeys.MinAgreement),
                MinCosine = Get(EvaluateKeys.MinCosine),
                MinMaskIou = Get(EvaluateKeys.MinMaskIou),
                MaxAbsError = Get(EvaluateKeys.MaxAbsError),
                MaxMeanAbsError = Get(EvaluateKeys.MaxMeanAbsError),
                MaxRelativeError = Get(EvaluateKeys.MaxRelativeError),
            },
            Location = reader.Locate(entry.KeyNode.Start),
        };

        double? Get(string key) => budget.TryGetValue(key, out double value) ? value : null;
    }

    private static List<string>? ReadData(SpecNodeReader reader, string specDirectory, MappingEntry entry)
    {
        List<YamlNode> items = entry.Value switch
        {
            YamlSequenceNode { Children.Count: > 0 } sequence => [.. sequence.Children],
            _ when SpecNodeReader.IsString(entry.Value) => [entry.Value],
            _ => [],
        };
        if (items.Count == 0)
        {
            reader.Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be a path, a glob or a non-empty list of them (relative to this file), but it is {YamlValues.Describe(entry.Value)}.");
            return null;
        }

        var paths = new List<string>();
        foreach (YamlNode item in items)
        {
            if (!SpecNodeReader.IsString(item) || Resolve(reader, specDirectory, (YamlScalarNode)item) is not { } path)
            {
                if (!SpecNodeReader.IsString(item))
                {
                    reader.Error(DiagnosticCodes.WrongType, item.Start, $"Items of '{entry.Key}' must be paths or globs, but this one is {YamlValues.Describe(item)}.");
                }

                return null;
            }

            bool exists = PathGlob.IsGlob(path) ? PathGlob.Expand(path).Count > 0 : File.Exists(path) || Directory.Exists(path);
            if (!exists)
            {
                reader.Error(DiagnosticCodes.DataFileMissing, item.Start, $"Evaluation data '{((YamlScalarNode)item).Value}' was not found (looked for '{path}').");
                return null;
            }

            paths.Add(path);
        }

        return paths;
    }

    private static string? ReadLabels(SpecNodeReader reader, string specDirectory, MappingEntry entry)
    {
        if (!reader.TryReadString(entry, "the path of an int64 .npy of labels", out _))
        {
            return null;
        }

        string? path = Resolve(reader, specDirectory, (YamlScalarNode)entry.Value);
        if (path is null)
        {
            return null;
        }

        if (!File.Exists(path))
        {
            reader.Error(DiagnosticCodes.DataFileMissing, entry.ValueMark, $"Labels '{((YamlScalarNode)entry.Value).Value}' were not found (looked for '{path}').");
            return null;
        }

        if (!Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase))
        {
            reader.Error(DiagnosticCodes.InvalidValue, entry.ValueMark, $"Labels '{((YamlScalarNode)entry.Value).Value}' must be a .npy file of int64 class labels, one per sample.");
            return null;
        }

        return path;
    }

    private static string? Resolve(SpecNodeReader reader, string specDirectory, YamlScalarNode item)
    {
        string written = item.Value ?? string.Empty;
        try
        {
            // As for 'source': backslashes are folder separators in specs written on Windows.
            return Path.GetFullPath(Path.Combine(specDirectory, written.Replace('\\', '/').Replace('/', Path.DirectorySeparatorChar)));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            reader.Error(DiagnosticCodes.InvalidValue, item.Start, $"'{written}' is not a valid path: {ex.Message}");
            return null;
        }
    }
}
