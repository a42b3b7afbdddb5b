using System.Globalization;
using System.Text.RegularExpressions;
using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Spec;

/// <summary>
/// Reads the options mapping of a <c>quantize</c> pass into a <see cref="QuantizePassSpec"/>. The mode is read
/// first: keys of other modes are rejected (CMP0017) without reading their values, then keys that must agree
/// (aliases, extra options, type combinations) are cross-checked (CMP0018).
/// </summary>
internal static partial class QuantizeOptionsReader
{
    /// <summary>Reads the options; returns null when any of them was reported as an error.</summary>
    /// <param name="reader">Collects the diagnostics.</param>
    /// <param name="specDirectory">Folder relative data paths start from.</param>
    /// <param name="passKey">The <c>quantize</c> key: the pass's location, and where a missing mode is reported.</param>
    /// <param name="options">The value of the <c>quantize</c> key.</param>
    public static QuantizePassSpec? Read(SpecNodeReader reader, string specDirectory, YamlScalarNode passKey, YamlNode options)
    {
        string kind = QuantizePassSpec.PassKind;
        if (YamlValues.IsAbsent(options))
        {
            reader.Error(DiagnosticCodes.MissingKey, passKey.Start, $"Pass '{kind}' is missing required key 'mode' ({ModeList}), e.g. '{kind}: {{ mode: dynamic }}'.");
            return null;
        }

        if (options is not YamlMappingNode mapping)
        {
            reader.Error(
                DiagnosticCodes.WrongType,
                options.Start,
                $"The options of '{kind}' must be a mapping, e.g. '{kind}: {{ mode: dynamic }}', but they are {YamlValues.Describe(options)}.");
            return null;
        }

        int errorsBefore = reader.ErrorCount;
        List<MappingEntry> entries = reader.KnownEntries(mapping, SpecKeys.QuantizeOptions, $"in {kind} options", out HashSet<string> misspelt);

        // The mode decides which keys apply, so it is read before the others; when it is missing or wrong,
        // the other keys are still checked on their own, but not against a mode.
        QuantizationMode? mode = null;
        if (entries.FirstOrDefault(e => e.Key == SpecKeys.Mode) is { } modeEntry)
        {
            mode = reader.TryReadEnum(modeEntry, SpecKeys.Modes, StringComparison.Ordinal, "mode", out QuantizationMode parsed) ? parsed : null;
        }
        else if (!misspelt.Contains(SpecKeys.Mode))
        {
            reader.Error(DiagnosticCodes.MissingKey, passKey.Start, $"Pass '{kind}' is missing required key 'mode' ({ModeList}).");
        }

        var draft = new Draft();
        foreach (MappingEntry entry in entries.Where(e => e.Key != SpecKeys.Mode))
        {
            QuantizationMode[] modes = SpecKeys.QuantizeOptionModes[entry.Key];
            if (mode is { } known && !modes.Contains(known))
            {
                reader.Error(DiagnosticCodes.KeyNotApplicable, entry.KeyNode.Start, NotApplicableMessage(entry.Key, modes, known));
                continue;
            }

            ReadOption(reader, specDirectory, entry, mode, draft);
        }

        if (mode == QuantizationMode.Static)
        {
            CheckStatic(reader, passKey, draft, misspelt);
        }

        if (reader.ErrorCount > errorsBefore || mode is not { } finalMode)
        {
            return null;
        }

        return Build(reader, passKey, finalMode, draft);
    }

    /// <summary>
    /// Reads a quant type. Mode dynamic only knows the 8-bit types: a 16-bit spelling there is CMP0017, and the
    /// list of allowed values shows the 8-bit spellings only. Null mode accepts every type.
    /// </summary>
    public static bool TryReadQuantType(SpecNodeReader reader, MappingEntry entry, QuantizationMode? mode, out QuantType type)
    {
        if (mode == QuantizationMode.Dynamic)
        {
            string text = (entry.Value as YamlScalarNode)?.Value ?? string.Empty;
            if (SpecKeys.QuantTypes.FirstOrDefault(t => string.Equals(t.Key, text, StringComparison.OrdinalIgnoreCase)) is { Key: not null } sixteen
                && sixteen.Value is QuantType.QInt16 or QuantType.QUInt16
                && SpecNodeReader.IsString(entry.Value))
            {
                reader.Error(
                    DiagnosticCodes.KeyNotApplicable,
                    entry.ValueMark,
                    $"'{entry.Key}: {text}' is only valid for mode static (16-bit types need the QDQ format); mode dynamic quantizes to 8 bits.");
                type = default;
                return false;
            }

            return reader.TryReadEnum(entry, SpecKeys.EightBitQuantTypes, StringComparison.OrdinalIgnoreCase, TypeWhat(entry.Key), out type);
        }

        return reader.TryReadEnum(entry, SpecKeys.QuantTypes, StringComparison.OrdinalIgnoreCase, TypeWhat(entry.Key), out type);
    }

    private static string ModeList => string.Join(" | ", SpecKeys.Modes.Select(m => m.Key));

    private static string TypeWhat(string key) => key == SpecKeys.ActivationType ? "activation type" : "weight type";

    private static string NotApplicableMessage(string key, QuantizationMode[] modes, QuantizationMode mode)
    {
        string message = $"'{key}' is only valid for mode {SpecKeys.ModeNames(modes)}; this pass has mode {SpecKeys.ModeName(mode)}.";
        string hint = (key, mode) switch
        {
            (SpecKeys.Calibration or SpecKeys.CalibrateMethod, QuantizationMode.Dynamic) => " Dynamic quantization computes activation ranges at run time and needs no data.",
            (SpecKeys.WeightType, QuantizationMode.WeightOnly) => " In weight_only mode 'bits' sets the weight width.",
            (SpecKeys.Symmetric, QuantizationMode.Static) => " For static, see 'calibration: { symmetric }' and the extra options ActivationSymmetric and WeightSymmetric.",
            (SpecKeys.Symmetric, QuantizationMode.Dynamic) => " For dynamic, see the extra option WeightSymmetric.",
            _ => string.Empty,
        };
        return message + hint;
    }

    private static void ReadOption(SpecNodeReader reader, string specDirectory, MappingEntry entry, QuantizationMode? mode, Draft draft)
    {
        switch (entry.Key)
        {
            case SpecKeys.PerChannel:
                draft.PerChannel = reader.TryReadBoolean(entry, out bool perChannel) ? perChannel : null;
                break;
            case SpecKeys.ReduceRange:
                draft.ReduceRange = reader.TryReadBoolean(entry, out bool reduceRange) ? reduceRange : null;
                break;
            case SpecKeys.WeightType:
                draft.WeightType = TryReadQuantType(reader, entry, mode, out QuantType weightType) ? new(weightType, entry) : null;
                break;
            case SpecKeys.ActivationType:
                draft.ActivationType = TryReadQuantType(reader, entry, mode, out QuantType activationType) ? new(activationType, entry) : null;
                break;
            case SpecKeys.QuantFormat:
                draft.QuantFormat = reader.TryReadEnum(entry, SpecKeys.QuantFormats, StringComparison.OrdinalIgnoreCase, "quant format", out QuantFormat format)
                    ? format
                    : null;
                break;
            case SpecKeys.OpTypesToQuantize:
                draft.OpTypes = ReadOpTypes(reader, entry, mode);
                break;
            case SpecKeys.NodesToQuantize:
                draft.NodesToQuantize = reader.TryReadStringList(entry, "node names", out List<string> names) ? names : null;
                break;
            case SpecKeys.NodesToExclude:
                draft.NodesToExclude = reader.TryReadStringList(entry, "node-name globs", out List<string> globs) ? globs : null;
                break;
            case SpecKeys.Calibration:
                draft.CalibrationSeen = true;
                draft.Calibration = CalibrationOptionsReader.Read(reader, specDirectory, entry);
                break;
            case SpecKeys.CalibrateMethod:
                draft.CalibrateMethod = reader.TryReadEnum(entry, SpecKeys.CalibrationMethods, StringComparison.Ordinal, "calibration method", out CalibrationMethod method)
                    ? new(method, entry)
                    : null;
                draft.MethodUnknown |= draft.CalibrateMethod is null;
                break;
            case SpecKeys.ExtraOptions:
                draft.Extra = ExtraOptionsReader.Read(reader, entry, mode);
                break;
            case SpecKeys.NodeOverrides:
                draft.NodeOverrides = NodeOverridesReader.Read(reader, entry);
                break;
            case SpecKeys.Bits:
                draft.Bits = ReadBits(reader, entry);
                break;
            case SpecKeys.BlockSize:
                draft.BlockSize = ReadBlockSize(reader, entry);
                break;
            case SpecKeys.Symmetric:
                draft.Symmetric = reader.TryReadBoolean(entry, out bool symmetric) ? symmetric : null;
                break;
            case SpecKeys.AccuracyLevel:
                draft.AccuracyLevel = reader.TryReadInteger(entry, 0, 4, out int level) ? level : null;
                break;
            case SpecKeys.ScaleType:
                draft.ScaleType = reader.TryReadEnum(entry, SpecKeys.WeightScaleTypes, StringComparison.Ordinal, "scale type", out WeightScaleType scaleType)
                    ? scaleType
                    : null;
                break;
        }
    }

    private static int? ReadBits(SpecNodeReader reader, MappingEntry entry)
    {
        if (!reader.TryReadInteger(entry, int.MinValue, int.MaxValue, out int bits))
        {
            return null;
        }

        if (!SpecKeys.WeightOnlyBits.Contains(bits))
        {
            reader.Error(DiagnosticCodes.BadEnumValue, entry.ValueMark, string.Create(CultureInfo.InvariantCulture, $"'{entry.Key}' is {bits}; allowed values: 4, 8."));
            return null;
        }

        return bits;
    }

    private static int? ReadBlockSize(SpecNodeReader reader, MappingEntry entry)
    {
        if (!reader.TryReadInteger(entry, 16, 256, out int blockSize))
        {
            return null;
        }

        if ((blockSize & (blockSize - 1)) != 0)
        {
            reader.Error(
                DiagnosticCodes.InvalidValue,
                entry.ValueMark,
                string.Create(CultureInfo.InvariantCulture, $"'{entry.Key}' is {blockSize}, which is not a power of two (16, 32, 64, 128 or 256)."));
            return null;
        }

        return blockSize;
    }

    /// <summary>Cross-checks of mode static: required calibration, the method alias, extra options against keys, types against the format.</summary>
    private static void CheckStatic(SpecNodeReader reader, YamlScalarNode passKey, Draft draft, HashSet<string> misspelt)
    {
        if (!draft.CalibrationSeen && !misspelt.Contains(SpecKeys.Calibration))
        {
            reader.Error(
                DiagnosticCodes.MissingKey,
                passKey.Start,
                "Pass 'quantize' with mode static is missing required key 'calibration': the sample data activation ranges are calibrated on, e.g. 'calibration: { data: data/calib.npy }'.");
        }

        CalibrationDraft? calibration = draft.Calibration;
        if (calibration is not null)
        {
            MergeMethod(reader, draft, calibration);
            MergeExtraOption(reader, draft.Extra, SpecKeys.CalibPercentile, calibration.Percentile, v => calibration.Percentile = v);
            MergeExtraOption(reader, draft.Extra, SpecKeys.CalibMovingAverageConstant, calibration.MovingAverageConstant, v => calibration.MovingAverageConstant = v);
            MergeExtraFlag(reader, draft.Extra, SpecKeys.CalibMovingAverage, calibration.MovingAverage, v => calibration.MovingAverage = v);
            MergeExtraFlag(reader, draft.Extra, SpecKeys.CalibTensorRangeSymmetric, calibration.Symmetric, v => calibration.Symmetric = v);
            if (!draft.MethodUnknown && !calibration.MethodUnknown)
            {
                CheckMethodSpecificKeys(reader, calibration);
            }
        }

        QuantFormat format = draft.QuantFormat ?? QuantFormat.QDQ;
        CheckTypes(reader, draft.ActivationType, draft.WeightType, format, null);
        foreach (NodeOverrideDraft entry in draft.NodeOverrides)
        {
            WrittenValue<QuantType>? activation = entry.Spec.ActivationType is { } a ? new(a, entry.ActivationTypeEntry!) : draft.ActivationType;
            WrittenValue<QuantType>? weight = entry.Spec.WeightType is { } w ? new(w, entry.WeightTypeEntry!) : draft.WeightType;
            CheckTypes(reader, activation, weight, format, entry);
        }

        if (format == QuantFormat.QOperator && draft.Extra?.Flags.GetValueOrDefault(SpecKeys.QuantizeBias) is { Value: false } keepFloatBias)
        {
            reader.Error(
                DiagnosticCodes.ConflictingOptions,
                keepFloatBias.Entry.ValueMark,
                "'QuantizeBias: false' only works with 'quant_format: QDQ': QOperator ops always take int32 biases.");
        }
    }

    private static void MergeMethod(SpecNodeReader reader, Draft draft, CalibrationDraft calibration)
    {
        if (draft.CalibrateMethod is not { } alias)
        {
            return;
        }

        if (calibration.Method is { } written && written.Value != alias.Value)
        {
            reader.Error(
                DiagnosticCodes.ConflictingOptions,
                alias.Entry.ValueMark,
                $"'calibrate_method: {Scalar(alias.Entry)}' conflicts with 'method: {Scalar(written.Entry)}' in 'calibration' (line {written.Entry.KeyNode.Start.Line}); give the method once.");
            return;
        }

        calibration.Method ??= alias;
    }

    private static void MergeExtraOption(SpecNodeReader reader, ExtraOptionsDraft? extra, string key, WrittenValue<double>? written, Action<WrittenValue<double>> set)
    {
        if (extra?.Numbers.GetValueOrDefault(key) is not { } option)
        {
            return;
        }

        if (written is null)
        {
            set(option);
        }
        else if (written.Value != option.Value)
        {
            ReportExtraConflict(reader, key, option.Entry, written.Entry);
        }
    }

    private static void MergeExtraFlag(SpecNodeReader reader, ExtraOptionsDraft? extra, string key, WrittenValue<bool>? written, Action<WrittenValue<bool>> set)
    {
        if (extra?.Flags.GetValueOrDefault(key) is not { } option)
        {
            return;
        }

        if (written is null)
        {
            set(option);
        }
        else if (written.Value != option.Value)
        {
            ReportExtraConflict(reader, key, option.Entry, written.Entry);
        }
    }

    private static void ReportExtraConflict(SpecNodeReader reader, string key, MappingEntry option, MappingEntry written) =>
        reader.Error(
            DiagnosticCodes.ConflictingOptions,
            option.ValueMark,
            $"Extra option '{key}: {Scalar(option)}' conflicts with 'calibration: {{ {SpecKeys.ExtraOptionCalibrationKeys[key]}: {Scalar(written)} }}' (line {written.KeyNode.Start.Line}); give the setting once.");

    /// <summary>percentile only means something for method percentile, moving_average(_constant) for minmax.</summary>
    private static void CheckMethodSpecificKeys(SpecNodeReader reader, CalibrationDraft calibration)
    {
        CalibrationMethod method = calibration.Method?.Value ?? CalibrationMethod.MinMax;
        (string Key, MappingEntry? Entry)[] written =
        [
            (SpecKeys.Percentile, calibration.Percentile?.Entry),
            (SpecKeys.MovingAverage, calibration.MovingAverage?.Entry),
            (SpecKeys.MovingAverageConstant, calibration.MovingAverageConstant?.Entry),
        ];
        foreach ((string key, MappingEntry? entry) in written)
        {
            CalibrationMethod needed = SpecKeys.CalibrationKeyMethods[key];
            if (entry is not null && needed != method)
            {
                reader.Error(
                    DiagnosticCodes.KeyNotApplicable,
                    entry.KeyNode.Start,
                    $"'{entry.Key}' only applies to calibration method {MethodName(needed)}; this calibration uses {MethodName(method)}.");
            }
        }
    }

    /// <summary>ORT's check_static_quant_arguments: no S8 activations with U8 weights, 16-bit types only in QDQ.</summary>
    private static void CheckTypes(SpecNodeReader reader, WrittenValue<QuantType>? activation, WrittenValue<QuantType>? weight, QuantFormat format, NodeOverrideDraft? entry)
    {
        string where = entry is null ? string.Empty : $" (node_overrides entry '{entry.Spec.Nodes}')";
        QuantType activationType = activation?.Value ?? QuantType.QUInt8, weightType = weight?.Value ?? QuantType.QInt8;

        // A node_overrides entry reports only what it writes itself; the pass-level values were checked already.
        bool IsOwn(WrittenValue<QuantType>? value) =>
            value is not null && (entry is null || value.Entry == entry.ActivationTypeEntry || value.Entry == entry.WeightTypeEntry);

        if (activationType == QuantType.QInt8 && weightType == QuantType.QUInt8 && (IsOwn(activation) || IsOwn(weight)))
        {
            MappingEntry at = IsOwn(activation) ? activation!.Entry : weight!.Entry;
            reader.Error(
                DiagnosticCodes.ConflictingOptions,
                at.ValueMark,
                $"Activation type QInt8 with weight type QUInt8 is not a supported combination{where} (ONNX Runtime has no S8U8 kernels); use QUInt8 activations or QInt8 weights.");
        }

        if (format == QuantFormat.QOperator)
        {
            foreach (WrittenValue<QuantType>? value in new[] { activation, weight })
            {
                if (value is { Value: QuantType.QInt16 or QuantType.QUInt16 } && IsOwn(value))
                {
                    reader.Error(
                        DiagnosticCodes.ConflictingOptions,
                        value.Entry.ValueMark,
                        $"'{value.Entry.Key}: {Scalar(value.Entry)}'{where} needs 'quant_format: QDQ': only QDQ supports 16-bit quantization types.");
                }
            }
        }
    }

    private static QuantizePassSpec Build(SpecNodeReader reader, YamlScalarNode passKey, QuantizationMode mode, Draft draft)
    {
        var defaults = new QuantizePassSpec();
        ExtraOptionsDraft extra = draft.Extra ?? new ExtraOptionsDraft();
        return new QuantizePassSpec
        {
            Location = reader.Locate(passKey.Start),
            Mode = mode,
            PerChannel = draft.PerChannel ?? defaults.PerChannel,
            ReduceRange = draft.ReduceRange ?? defaults.ReduceRange,
            WeightType = draft.WeightType?.Value ?? defaults.WeightType,
            ActivationType = draft.ActivationType?.Value ?? defaults.ActivationType,
            QuantFormat = draft.QuantFormat ?? defaults.QuantFormat,
            OpTypesToQuantize = draft.OpTypes ?? QuantizePassSpec.DefaultOpTypesFor(mode),
            NodesToQuantize = draft.NodesToQuantize ?? [],
            NodesToExclude = draft.NodesToExclude ?? [],
            Calibration = draft.Calibration is { } calibration ? BuildCalibration(reader, calibration) : null,
            ActivationSymmetric = extra.Flag(SpecKeys.ActivationSymmetric) ?? defaults.ActivationSymmetric,
            WeightSymmetric = extra.Flag(SpecKeys.WeightSymmetric),
            QuantizeBias = extra.Flag(SpecKeys.QuantizeBias) ?? defaults.QuantizeBias,
            MinimumRealRange = extra.Number(SpecKeys.MinimumRealRange) is { } range ? (float)range : null,
            MatMulConstBOnly = extra.Flag(SpecKeys.MatMulConstBOnly),
            ForceQuantizeNoInputCheck = extra.Flag(SpecKeys.ForceQuantizeNoInputCheck) ?? defaults.ForceQuantizeNoInputCheck,
            NodeOverrides = [.. draft.NodeOverrides.Select(o => o.Spec)],
            Bits = draft.Bits ?? defaults.Bits,
            BlockSize = draft.BlockSize ?? defaults.BlockSize,
            Symmetric = draft.Symmetric ?? defaults.Symmetric,
            AccuracyLevel = draft.AccuracyLevel,
            ScaleType = draft.ScaleType ?? defaults.ScaleType,
        };
    }

    private static CalibrationSpec BuildCalibration(SpecNodeReader reader, CalibrationDraft draft)
    {
        CalibrationMethod method = draft.Method?.Value ?? CalibrationMethod.MinMax;
        return new CalibrationSpec
        {
            DataPaths = draft.DataPaths ?? [],
            Method = method,
            Samples = draft.Samples?.Value,
            BatchSize = draft.BatchSize?.Value ?? CalibrationSpec.DefaultBatchSize,
            Percentile = draft.Percentile?.Value ?? CalibrationSpec.DefaultPercentile,
            MovingAverage = draft.MovingAverage?.Value ?? false,
            MovingAverageConstant = draft.MovingAverageConstant?.Value ?? CalibrationSpec.DefaultMovingAverageConstant,

            // ORT's calibrators default to symmetric ranges for Percentile only (calibrate.py create_calibrator).
            SymmetricRange = draft.Symmetric?.Value ?? method == CalibrationMethod.Percentile,
            Location = reader.Locate(draft.Entry.KeyNode.Start),
        };
    }

    private static string MethodName(CalibrationMethod method) => SpecKeys.CalibrationMethods.First(m => m.Value == method).Key;

    private static string Scalar(MappingEntry entry) => (entry.Value as YamlScalarNode)?.Value ?? string.Empty;

    private static List<string>? ReadOpTypes(SpecNodeReader reader, MappingEntry entry, QuantizationMode? mode)
    {
        if (!reader.TryReadStringList(entry, "op type names", out List<string> opTypes))
        {
            return null;
        }

        if (opTypes.Count == 0)
        {
            IReadOnlyList<string> defaults = QuantizePassSpec.DefaultOpTypesFor(mode ?? QuantizationMode.Dynamic);
            reader.Error(
                DiagnosticCodes.InvalidValue,
                entry.ValueMark,
                $"'{entry.Key}' must name at least one op type; leave the key out for the default [{string.Join(", ", defaults)}].");
            return null;
        }

        var sequence = (YamlSequenceNode)entry.Value;
        bool ok = true;
        for (int i = 0; i < opTypes.Count; i++)
        {
            if (!OpTypePattern().IsMatch(opTypes[i]))
            {
                Mark at = sequence.Children[i].Start;
                reader.Error(DiagnosticCodes.InvalidValue, at, $"'{opTypes[i]}' is not an ONNX op type name (such as MatMul or Gemm).");
                ok = false;
            }
        }

        return ok ? opTypes.Distinct(StringComparer.Ordinal).ToList() : null;
    }

    /// <summary>An op type name: the pattern the float16 pass's op_block_list shares.</summary>
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    internal static partial Regex OpTypePattern();

    /// <summary>The options as read; null means not written (or reported).</summary>
    private sealed class Draft
    {
        public bool? PerChannel { get; set; }

        public bool? ReduceRange { get; set; }

        public WrittenValue<QuantType>? WeightType { get; set; }

        public WrittenValue<QuantType>? ActivationType { get; set; }

        public QuantFormat? QuantFormat { get; set; }

        public List<string>? OpTypes { get; set; }

        public List<string>? NodesToQuantize { get; set; }

        public List<string>? NodesToExclude { get; set; }

        public bool CalibrationSeen { get; set; }

        public CalibrationDraft? Calibration { get; set; }

        public WrittenValue<CalibrationMethod>? CalibrateMethod { get; set; }

        /// <summary>calibrate_method was written but reported: method-specific checks would only echo that error.</summary>
        public bool MethodUnknown { get; set; }

        public ExtraOptionsDraft? Extra { get; set; }

        public List<NodeOverrideDraft> NodeOverrides { get; set; } = [];

        public int? Bits { get; set; }

        public int? BlockSize { get; set; }

        public bool? Symmetric { get; set; }

        public int? AccuracyLevel { get; set; }

        public WeightScaleType? ScaleType { get; set; }
    }
}
