using System.Text.RegularExpressions;
using Compress.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Checks a spec document against the v1 rules and builds the typed <see cref="CompressSpec"/>.
/// Reports every independent mistake once; a value that failed is not checked further, so one mistake
/// never produces a second, derived error.
/// </summary>
internal sealed partial class SpecValidator
{
    private readonly SpecNodeReader reader;
    private readonly string specPath;
    private readonly string specDirectory;

    // Model names and output paths seen so far, compared ignoring case (Windows and macOS file systems do).
    private readonly Dictionary<string, (string Name, Mark At)> names = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, (string Name, Mark At)> outputs = new(StringComparer.OrdinalIgnoreCase);

    private SpecValidator(SpecNodeReader reader, string specPath)
    {
        this.reader = reader;
        this.specPath = specPath;
        specDirectory = Path.GetDirectoryName(specPath) ?? Path.GetPathRoot(specPath) ?? specPath;
    }

    public static CompressSpec? Validate(SpecNodeReader reader, string specPath, YamlNode? root) =>
        new SpecValidator(reader, specPath).Validate(root);

    private CompressSpec? Validate(YamlNode? root)
    {
        if (root is null || YamlValues.IsAbsent(root) || (root is YamlScalarNode scalar && YamlValues.KindOf(scalar) == YamlScalarKind.Null))
        {
            // An empty document has no meaningful position of its own (YamlDotNet puts it after the last line).
            Mark at = Mark.Empty;
            reader.Error(DiagnosticCodes.MissingKey, at, "The spec is empty. It needs 'version: 1' and a 'models' list.");
            return null;
        }

        if (root is not YamlMappingNode top)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                root.Start,
                $"The spec must be a mapping with the keys 'version' and 'models', but the document is {YamlValues.Describe(root)}.");
            return null;
        }

        // The version decides which rules apply: when it is not 1, judging the rest by v1 rules would only
        // produce noise, so it is the one error reported.
        List<MappingEntry> all = reader.Entries(top);
        if (all.FirstOrDefault(e => e.Key == SpecKeys.Version) is { } versionEntry)
        {
            if (!reader.TryReadInteger(versionEntry, int.MinValue, int.MaxValue, out int version))
            {
                return null;
            }

            if (version != SpecKeys.SupportedVersion)
            {
                reader.Error(
                    DiagnosticCodes.UnsupportedVersion,
                    versionEntry.ValueMark,
                    $"Spec version {version} is not supported: this version of Compress reads version {SpecKeys.SupportedVersion}.");
                return null;
            }
        }

        List<MappingEntry> known = reader.KnownEntries(all, SpecKeys.TopLevel, "at the top level", out HashSet<string> misspelt);
        if (!known.Any(e => e.Key == SpecKeys.Version) && !misspelt.Contains(SpecKeys.Version))
        {
            reader.Error(DiagnosticCodes.MissingKey, top.Start, "Missing required key 'version'. Add 'version: 1' at the top of the file.");
        }

        MappingEntry? modelsEntry = known.FirstOrDefault(e => e.Key == SpecKeys.Models);
        List<ModelSpec> models = modelsEntry is null ? [] : ReadModels(modelsEntry);
        if (modelsEntry is null && !misspelt.Contains(SpecKeys.Models))
        {
            reader.Error(DiagnosticCodes.MissingKey, top.Start, "Missing required key 'models': the list of models to compress.");
        }

        return reader.ErrorCount > 0
            ? null
            : new CompressSpec
            {
                SpecPath = specPath,
                SpecDirectory = specDirectory,
                Version = SpecKeys.SupportedVersion,
                Models = models,
            };
    }

    private List<ModelSpec> ReadModels(MappingEntry entry)
    {
        var models = new List<ModelSpec>();
        if (YamlValues.IsAbsent(entry.Value) || entry.Value is YamlSequenceNode { Children.Count: 0 })
        {
            reader.Error(DiagnosticCodes.EmptyModels, entry.ValueMark, "'models' is empty: list at least one model (with 'name' and 'source').");
            return models;
        }

        if (entry.Value is not YamlSequenceNode sequence)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                entry.ValueMark,
                $"'models' must be a list of models ('- name: …'), but it is {YamlValues.Describe(entry.Value)}.");
            return models;
        }

        foreach (YamlNode item in sequence.Children)
        {
            if (ReadModel(item) is { } model)
            {
                models.Add(model);
            }
        }

        return models;
    }

    private ModelSpec? ReadModel(YamlNode item)
    {
        if (item is not YamlMappingNode mapping)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                item.Start,
                $"Each entry of 'models' must be a mapping with 'name' and 'source', but this one is {YamlValues.Describe(item)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, SpecKeys.Model, "in a model entry", out HashSet<string> misspelt);
        MappingEntry? Find(string key) => entries.FirstOrDefault(e => e.Key == key);

        string? name = ReadName(Find(SpecKeys.Name), mapping, misspelt);
        string? source = ReadSource(Find(SpecKeys.Source), mapping, misspelt);
        string? output = ReadOutput(Find(SpecKeys.Output), name, Find(SpecKeys.Name));
        List<PassSpec> passes = ReadPasses(Find(SpecKeys.Passes));
        EvaluateSpec? evaluate = Find(EvaluateKeys.Evaluate) is { } evaluateEntry ? EvaluateOptionsReader.Read(reader, specDirectory, evaluateEntry) : null;
        if (evaluate is { TuneQuantization: true } && !passes.OfType<QuantizePassSpec>().Any(p => p.IsCalibratedStatic())
            && Find(EvaluateKeys.Evaluate)!.Value is YamlMappingNode evaluateMapping
            && evaluateMapping.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value == EvaluateKeys.TuneQuantization) is { } tuneKey)
        {
            // Silently doing nothing would let a user believe the settings were searched.
            reader.Error(DiagnosticCodes.KeyNotApplicable, tuneKey.Start, $"'{EvaluateKeys.TuneQuantization}' tries other settings of static quantize passes ('quantize: {{mode: static, calibration: ...}}'), and this model has none.");
        }

        Packing.PackFormat pack = Packing.PackFormat.None;
        if (Find(PruneKeys.Pack) is { } packEntry)
        {
            reader.TryReadEnum(packEntry, PruneKeys.PackFormats, StringComparison.Ordinal, "pack format", out pack);
        }

        Onnx.InitializerStorage storage = Onnx.InitializerStorage.Dense;
        if (Find(PruneKeys.Storage) is { } storageEntry)
        {
            reader.TryReadEnum(storageEntry, PruneKeys.Storages, StringComparison.Ordinal, "storage", out storage);
        }

        if (reader.ErrorCount > errorsBefore || name is null || source is null || output is null)
        {
            return null;
        }

        int slash = output.LastIndexOf('/');
        string report = (slash < 0 ? string.Empty : output[..(slash + 1)]) + name + ".report.json";
        return new ModelSpec
        {
            Name = name,
            SourcePath = source,
            OutputPath = output,
            ReportPath = report,
            Passes = passes,
            Evaluate = evaluate,
            Pack = pack,
            Storage = storage,
            Location = reader.Locate(mapping.Start),
        };
    }

    private string? ReadName(MappingEntry? entry, YamlMappingNode model, HashSet<string> misspelt)
    {
        if (entry is null)
        {
            if (misspelt.Contains(SpecKeys.Name))
            {
                return null;
            }

            reader.Error(DiagnosticCodes.MissingKey, model.Start, "Missing required key 'name' in a model entry: it names the output file (<name>.onnx).");
            return null;
        }

        if (!reader.TryReadString(entry, "a name such as digits-int8", out string name))
        {
            return null;
        }

        if (!SafeNamePattern().IsMatch(name) || name is "." or "..")
        {
            reader.Error(
                DiagnosticCodes.InvalidValue,
                entry.ValueMark,
                $"Model name '{name}' is not a safe file name: use only letters, digits, '.', '_' and '-' (it names the output file).");
            return null;
        }

        if (names.TryGetValue(name, out var first))
        {
            string casing = first.Name == name ? string.Empty : $" ('{first.Name}' differs only in case, which clashes on case-insensitive file systems)";
            reader.Error(
                DiagnosticCodes.DuplicateModelName,
                entry.ValueMark,
                $"Duplicate model name '{name}': the model at line {first.At.Line} already uses it{casing}. Names must be unique because they name the output files.");
            return null;
        }

        names.Add(name, (name, entry.ValueMark));
        return name;
    }

    private string? ReadSource(MappingEntry? entry, YamlMappingNode model, HashSet<string> misspelt)
    {
        if (entry is null)
        {
            if (misspelt.Contains(SpecKeys.Source))
            {
                return null;
            }

            reader.Error(DiagnosticCodes.MissingKey, model.Start, "Missing required key 'source' in a model entry: the ONNX model to compress, relative to this file.");
            return null;
        }

        if (!reader.TryReadString(entry, "the path of an ONNX model", out string source))
        {
            return null;
        }

        string fullPath;
        try
        {
            // Backslashes are folder separators in specs written on Windows; accept them everywhere.
            string portable = source.Replace('\\', '/').Replace('/', Path.DirectorySeparatorChar);
            fullPath = Path.GetFullPath(Path.Combine(specDirectory, portable));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            reader.Error(DiagnosticCodes.InvalidValue, entry.ValueMark, $"'{source}' is not a valid path: {ex.Message}");
            return null;
        }

        if (File.Exists(fullPath))
        {
            return fullPath;
        }

        string problem = Directory.Exists(fullPath) ? "is a folder, not a model file" : "was not found";
        reader.Error(DiagnosticCodes.ModelFileMissing, entry.ValueMark, $"Model file '{source}' {problem} (looked for '{fullPath}').");
        return null;
    }

    private string? ReadOutput(MappingEntry? entry, string? name, MappingEntry? nameEntry)
    {
        string? output;
        Mark at;
        if (entry is null)
        {
            if (name is null)
            {
                return null;
            }

            output = name + ".onnx";
            at = nameEntry!.ValueMark;
        }
        else
        {
            if (!reader.TryReadString(entry, "a file path relative to the output folder", out string written))
            {
                return null;
            }

            at = entry.ValueMark;
            switch (OutputPathRules.Normalize(written, out output, out string reason))
            {
                case OutputPathRules.Verdict.Escapes:
                    reader.Error(DiagnosticCodes.OutputEscapesFolder, at, $"Output '{written}' must stay inside the output folder, but {reason}.");
                    return null;
                case OutputPathRules.Verdict.Invalid:
                    reader.Error(DiagnosticCodes.InvalidValue, at, $"Output '{written}' is not a valid file path: {reason}.");
                    return null;
            }
        }

        if (outputs.TryGetValue(output, out var first))
        {
            reader.Error(DiagnosticCodes.InvalidValue, at, $"Output '{output}' is already written by model '{first.Name}' (line {first.At.Line}); give this model another 'output'.");
            return null;
        }

        outputs.Add(output, (name ?? string.Empty, at));
        return output;
    }

    private List<PassSpec> ReadPasses(MappingEntry? entry)
    {
        var passes = new List<PassSpec>();

        // No passes (or an empty list) is valid: the model is copied through and reported.
        if (entry is null || YamlValues.IsAbsent(entry.Value))
        {
            return passes;
        }

        if (entry.Value is not YamlSequenceNode sequence)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                entry.ValueMark,
                $"'passes' must be a list of passes ('- quantize: …'), but it is {YamlValues.Describe(entry.Value)}.");
            return passes;
        }

        foreach (YamlNode item in sequence.Children)
        {
            if (ReadPass(item) is { } pass)
            {
                passes.Add(pass);
            }
        }

        return passes;
    }

    private PassSpec? ReadPass(YamlNode item)
    {
        const string Shape = "Each entry of 'passes' is a mapping with one key, the pass name, e.g. '- quantize: { mode: dynamic }'";
        if (item is YamlScalarNode scalar && SpecNodeReader.IsString(scalar))
        {
            if (!SpecKeys.PassKinds.Contains(scalar.Value, StringComparer.Ordinal))
            {
                reader.ReportUnknown(scalar, $"Unknown pass '{scalar.Value}'.", SpecKeys.PassKinds, "Known passes");
                return null;
            }

            // float16 and cleanup have defaults for every option, so the bare name is a complete pass.
            if (scalar.Value == QuantizePassSpec.PassKind)
            {
                reader.Error(DiagnosticCodes.MissingKey, scalar.Start, $"Pass '{scalar.Value}' needs its options: write '- {scalar.Value}: {{ mode: dynamic }}'.");
                return null;
            }

            return ReadPassOptions(scalar, null);
        }

        if (item is not YamlMappingNode mapping)
        {
            reader.Error(DiagnosticCodes.WrongType, item.Start, $"{Shape}, but this one is {YamlValues.Describe(item)}.");
            return null;
        }

        List<MappingEntry> entries = reader.Entries(mapping);
        if (entries.Count == 0)
        {
            if (mapping.Children.Count == 0)
            {
                reader.Error(DiagnosticCodes.MissingKey, mapping.Start, $"{Shape}, but this one is empty.");
            }

            return null;
        }

        MappingEntry pass = entries[0];
        if (!SpecKeys.PassKinds.Contains(pass.Key, StringComparer.Ordinal))
        {
            reader.ReportUnknown(pass.KeyNode, $"Unknown pass '{pass.Key}'.", SpecKeys.PassKinds, "Known passes");
            return null;
        }

        if (entries.Count > 1)
        {
            // Typically an option that lost its indentation: "- quantize:\n  mode: dynamic".
            MappingEntry extra = entries[1];
            string hint = SpecKeys.PassOptions[pass.Key].Contains(extra.Key, StringComparer.Ordinal)
                ? $"'{extra.Key}' is an option of '{pass.Key}': indent it below '{pass.Key}:'."
                : $"Start a new entry with '- ' for '{extra.Key}'.";
            reader.Error(DiagnosticCodes.UnknownKey, extra.KeyNode.Start, $"Unexpected key '{extra.Key}' in a pass entry: {hint} {Shape}.");
            return null;
        }

        return ReadPassOptions(pass.KeyNode, pass.Value);
    }

    private PassSpec? ReadPassOptions(YamlScalarNode passKey, YamlNode? options) => passKey.Value switch
    {
        QuantizePassSpec.PassKind => QuantizeOptionsReader.Read(reader, specDirectory, passKey, options!),
        Float16PassSpec.PassKind => Float16OptionsReader.Read(reader, passKey, options),
        PrunePassSpec.PassKind => PruneOptionsReader.Read(reader, specDirectory, passKey, options),
        ReconstructPassSpec.PassKind => ReconstructOptionsReader.Read(reader, specDirectory, passKey, options),
        _ => CleanupOptionsReader.Read(reader, passKey, options),
    };

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex SafeNamePattern();
}
