using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.IO;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>Reads a <c>calibration</c> block: the data paths (checked on disk) and the calibrator settings.</summary>
internal static class CalibrationOptionsReader
{
    private const string Example = "calibration: { data: data/calib.npy }";

    /// <summary>Reads the block; returns null when it is not even a mapping. Errors inside are reported, not returned.</summary>
    public static CalibrationDraft? Read(SpecNodeReader reader, string specDirectory, MappingEntry entry)
    {
        if (YamlValues.IsAbsent(entry.Value))
        {
            reader.Error(DiagnosticCodes.MissingKey, entry.KeyNode.Start, $"'{entry.Key}' is missing required key 'data', e.g. '{Example}'.");
            return null;
        }

        if (entry.Value is not YamlMappingNode mapping)
        {
            reader.Error(DiagnosticCodes.WrongType, entry.ValueMark, $"'{entry.Key}' must be a mapping, e.g. '{Example}', but it is {YamlValues.Describe(entry.Value)}.");
            return null;
        }

        var draft = new CalibrationDraft(entry);
        List<MappingEntry> entries = reader.KnownEntries(mapping, SpecKeys.CalibrationOptions, "in calibration options", out HashSet<string> misspelt);
        foreach (MappingEntry option in entries)
        {
            switch (option.Key)
            {
                case SpecKeys.Data:
                    draft.DataPaths = ReadData(reader, specDirectory, option);
                    break;
                case SpecKeys.Method:
                    if (reader.TryReadEnum(option, SpecKeys.CalibrationMethods, StringComparison.Ordinal, "calibration method", out CalibrationMethod method))
                    {
                        draft.Method = new(method, option);
                    }
                    else
                    {
                        draft.MethodUnknown = true;
                    }

                    break;
                case SpecKeys.Samples:
                    if (reader.TryReadInteger(option, 1, int.MaxValue, out int samples))
                    {
                        draft.Samples = new(samples, option);
                    }

                    break;
                case SpecKeys.BatchSize:
                    if (reader.TryReadInteger(option, 1, int.MaxValue, out int batchSize))
                    {
                        draft.BatchSize = new(batchSize, option);
                    }

                    break;
                case SpecKeys.Percentile:
                    if (TryReadPercentile(reader, option, out double percentile))
                    {
                        draft.Percentile = new(percentile, option);
                    }

                    break;
                case SpecKeys.MovingAverage:
                    if (reader.TryReadBoolean(option, out bool movingAverage))
                    {
                        draft.MovingAverage = new(movingAverage, option);
                    }

                    break;
                case SpecKeys.MovingAverageConstant:
                    if (TryReadMovingAverageConstant(reader, option, out double constant))
                    {
                        draft.MovingAverageConstant = new(constant, option);
                    }

                    break;
                case SpecKeys.Symmetric:
                    if (reader.TryReadBoolean(option, out bool symmetric))
                    {
                        draft.Symmetric = new(symmetric, option);
                    }

                    break;
            }
        }

        if (!entries.Any(e => e.Key == SpecKeys.Data) && !misspelt.Contains(SpecKeys.Data))
        {
            reader.Error(
                DiagnosticCodes.MissingKey,
                entry.KeyNode.Start,
                $"'{entry.Key}' is missing required key 'data': a .npy or .npz file, a folder of input_N.pb files, a glob or a list of them.");
        }

        return draft;
    }

    /// <summary>Percentile in (0, 100], shared by <c>percentile</c> and <c>CalibPercentile</c>.</summary>
    public static bool TryReadPercentile(SpecNodeReader reader, MappingEntry entry, out double value) =>
        reader.TryReadNumber(entry, p => p is > 0 and <= 100, "0 < percentile ≤ 100", out value);

    /// <summary>Averaging constant in (0, 1), shared by <c>moving_average_constant</c> and <c>CalibMovingAverageConstant</c>.</summary>
    public static bool TryReadMovingAverageConstant(SpecNodeReader reader, MappingEntry entry, out double value) =>
        reader.TryReadNumber(entry, c => c is > 0 and < 1, "0 < constant < 1", out value);

    /// <summary>The data paths as full paths (globs kept), or null when any of them was reported.</summary>
    private static List<string>? ReadData(SpecNodeReader reader, string specDirectory, MappingEntry entry)
    {
        List<YamlNode> items;
        if (entry.Value is YamlSequenceNode sequence)
        {
            if (sequence.Children.Count == 0)
            {
                reader.Error(DiagnosticCodes.InvalidValue, entry.ValueMark, $"'{entry.Key}' must name at least one data file, folder or glob.");
                return null;
            }

            items = [.. sequence.Children];
        }
        else if (SpecNodeReader.IsString(entry.Value))
        {
            items = [entry.Value];
        }
        else
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                entry.ValueMark,
                $"'{entry.Key}' must be a path, a glob or a list of them (relative to this file), e.g. data/calib.npy, but it is {YamlValues.Describe(entry.Value)}.");
            return null;
        }

        var paths = new List<string>();
        bool ok = true;
        foreach (YamlNode item in items)
        {
            string? path = ReadDataPath(reader, specDirectory, entry.Key, item);
            ok &= path is not null;
            if (path is not null)
            {
                paths.Add(path);
            }
        }

        return ok ? paths : null;
    }

    private static string? ReadDataPath(SpecNodeReader reader, string specDirectory, string key, YamlNode item)
    {
        Mark at = item.Start;
        if (!SpecNodeReader.IsString(item))
        {
            reader.Error(DiagnosticCodes.WrongType, at, $"Items of '{key}' must be paths or globs, but this one is {YamlValues.Describe(item)}.");
            return null;
        }

        string written = ((YamlScalarNode)item).Value ?? string.Empty;
        if (written.Length == 0)
        {
            reader.Error(DiagnosticCodes.InvalidValue, at, $"'{key}' must not be empty; it is a data file, folder or glob.");
            return null;
        }

        string fullPath;
        try
        {
            // As for 'source': backslashes are folder separators in specs written on Windows.
            string portable = written.Replace('\\', '/').Replace('/', Path.DirectorySeparatorChar);
            fullPath = Path.GetFullPath(Path.Combine(specDirectory, portable));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            reader.Error(DiagnosticCodes.InvalidValue, at, $"'{written}' is not a valid path: {ex.Message}");
            return null;
        }

        if (PathGlob.IsGlob(written))
        {
            IReadOnlyList<string> matches = PathGlob.Expand(fullPath);
            if (matches.Count == 0)
            {
                reader.Error(DiagnosticCodes.DataFileMissing, at, $"Calibration data glob '{written}' matches no file or folder (looked for '{fullPath}').");
                return null;
            }

            foreach (string match in matches)
            {
                if (DataProblem(match) is { } problem)
                {
                    reader.Error(problem.Code, at, $"Calibration data glob '{written}' matches '{match}', which {problem.Reason}.");
                    return null;
                }
            }

            return fullPath;
        }

        if (DataProblem(fullPath) is { } single)
        {
            reader.Error(single.Code, at, $"Calibration data '{written}' {single.Reason} (looked for '{fullPath}').");
            return null;
        }

        return fullPath;
    }

    /// <summary>Why a path is not calibration data in the project's data convention, or null when it is.</summary>
    private static (string Code, string Reason)? DataProblem(string fullPath)
    {
        if (Directory.Exists(fullPath))
        {
            return File.Exists(Path.Combine(fullPath, "input_0.pb"))
                ? null
                : (DiagnosticCodes.DataFileMissing, "is a folder without input_0.pb (a data folder holds input_0.pb, input_1.pb, … in input order)");
        }

        if (!File.Exists(fullPath))
        {
            return (DiagnosticCodes.DataFileMissing, "was not found");
        }

        string extension = Path.GetExtension(fullPath);
        return extension.Equals(".npy", StringComparison.OrdinalIgnoreCase) || extension.Equals(".npz", StringComparison.OrdinalIgnoreCase)
            ? null
            : (DiagnosticCodes.InvalidValue, "is not calibration data: use a .npy file (one input), an .npz file (inputs by name) or a folder of input_N.pb files");
    }
}
