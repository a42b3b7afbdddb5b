using Compress.Core.Diagnostics;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>
/// Mistakes in static, weight-only, float16 and cleanup passes: one error each, with its code, line and column.
/// Every spec here is <see cref="SpecWorkspace.WithPass"/>: the pass starts on line 6 ("      - quantize:", name at column 9).
/// </summary>
public sealed class SpecQuantizationErrorTests
{
    private const string Calib = "calibration: { data: data/calib.npy }";

    private SpecWorkspace workspace = null!;

    [SetUp]
    public void CreateWorkspace() => workspace = new SpecWorkspace();

    [TearDown]
    public void DeleteWorkspace() => workspace.Dispose();

    // Mode-specific keys: "      - quantize: { mode: dynamic, " puts the next key at column 36.
    [TestCase("dynamic", "calibration: { data: data/calib.npy }", "calibration", "static")]
    [TestCase("dynamic", "calibrate_method: minmax", "calibrate_method", "static")]
    [TestCase("dynamic", "activation_type: QUInt8", "activation_type", "static")]
    [TestCase("dynamic", "quant_format: QDQ", "quant_format", "static")]
    [TestCase("dynamic", "node_overrides: []", "node_overrides", "static")]
    [TestCase("dynamic", "bits: 4", "bits", "weight_only")]
    [TestCase("dynamic", "symmetric: true", "symmetric", "weight_only")]
    public void KeyOfAnotherModeIsRejectedAtTheKey(string mode, string option, string key, string validMode)
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass($"      - quantize: {{ mode: {mode}, {option} }}"), DiagnosticCodes.KeyNotApplicable, 6, 36);

        Assert.That(error.Message, Does.StartWith($"'{key}' is only valid for mode {validMode}; this pass has mode {mode}."));
    }

    [TestCase("bits: 4", "bits")]
    [TestCase("block_size: 32", "block_size")]
    [TestCase("accuracy_level: 4", "accuracy_level")]
    [TestCase("scale_type: float16", "scale_type")]
    public void WeightOnlyKeyWithStaticIsRejected(string option, string key)
    {
        // "      - quantize: { mode: static, " is 34 characters.
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass($"      - quantize: {{ mode: static, {option}, {Calib} }}"), DiagnosticCodes.KeyNotApplicable, 6, 35);

        Assert.That(error.Message, Does.Contain($"'{key}' is only valid for mode weight_only; this pass has mode static."));
    }

    [TestCase("per_channel: true", "dynamic or static")]
    [TestCase("weight_type: QInt8", "dynamic or static")]
    [TestCase("extra_options: {}", "dynamic or static")]
    [TestCase("calibration: { data: data/calib.npy }", "static")]
    public void IntegerModeKeyWithWeightOnlyIsRejected(string option, string modes)
    {
        // "      - quantize: { mode: weight_only, " is 39 characters.
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass($"      - quantize: {{ mode: weight_only, {option} }}"), DiagnosticCodes.KeyNotApplicable, 6, 40);

        Assert.That(error.Message, Does.Contain($"is only valid for mode {modes}; this pass has mode weight_only."));
    }

    [Test]
    public void KeysAreJudgedByTheModeEvenWhenTheyComeFirst()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { calibration: { data: data/calib.npy }, mode: dynamic }"), DiagnosticCodes.KeyNotApplicable, 6, 21);
    }

    [Test]
    public void SixteenBitWeightsWithDynamicAreRejectedAtTheValue()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { mode: dynamic, weight_type: QInt16 }"), DiagnosticCodes.KeyNotApplicable, 6, 49);

        Assert.That(error.Message, Does.Contain("only valid for mode static"));
    }

    [Test]
    public void SixteenBitTypeWithQOperatorConflicts()
    {
        string yaml = SpecWorkspace.WithPass($"      - quantize:\n          mode: static\n          quant_format: QOperator\n          activation_type: QUInt16\n          {Calib}\n");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.ConflictingOptions, 9, 28);

        Assert.That(error.Message, Does.Contain("only QDQ supports 16-bit quantization types"));
    }

    [Test]
    public void SignedActivationsWithUnsignedWeightsConflict()
    {
        string yaml = SpecWorkspace.WithPass($"      - quantize:\n          mode: static\n          activation_type: QInt8\n          weight_type: QUInt8\n          {Calib}\n");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.ConflictingOptions, 8, 28);

        Assert.That(error.Message, Does.Contain("Activation type QInt8 with weight type QUInt8"));
    }

    [Test]
    public void NodeOverrideThatMakesS8U8IsReportedAtItsOwnValue()
    {
        string yaml = SpecWorkspace.WithPass(
            $"      - quantize:\n          mode: static\n          activation_type: QInt8\n          {Calib}\n          node_overrides:\n            - {{ nodes: fc1, weight_type: QUInt8 }}\n");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.ConflictingOptions, 11, 42);

        Assert.That(error.Message, Does.Contain("node_overrides entry 'fc1'"));
    }

    [Test]
    public void StaticWithoutCalibrationIsMissingKeyAtThePassName()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { mode: static }"), DiagnosticCodes.MissingKey, 6, 9);

        Assert.That(error.Message, Does.Contain("missing required key 'calibration'"));
    }

    [Test]
    public void MisspeltCalibrationIsOnlyAnUnknownKey()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { mode: static, calibraton: { data: data/calib.npy } }"), DiagnosticCodes.UnknownKey, 6, 35);

        Assert.That(error.Message, Does.EndWith("Did you mean 'calibration'?"));
    }

    [Test]
    public void CalibrationWithoutDataIsMissingKeyAtCalibration()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { method: minmax } }"), DiagnosticCodes.MissingKey, 6, 35);
    }

    [Test]
    public void MissingDataFileIsReportedAtItsPosition()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: data/none.npy } }"), DiagnosticCodes.DataFileMissing, 6, 56);

        Assert.That(error.Message, Does.Contain(workspace.PathOf("data/none.npy")));
    }

    [Test]
    public void MissingFileInADataListIsReportedAtTheItem()
    {
        string yaml = SpecWorkspace.WithPass(
            "      - quantize:\n          mode: static\n          calibration:\n            data:\n              - data/calib.npy\n              - data/gone.npz\n");

        workspace.SingleError(yaml, DiagnosticCodes.DataFileMissing, 11, 17);
    }

    [Test]
    public void GlobMatchingNothingIsAnError()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: 'data/*.npz' } }"), DiagnosticCodes.DataFileMissing, 6, 56);

        Assert.That(error.Message, Does.Contain("matches no file"));
    }

    [Test]
    public void DataFolderWithoutInputZeroIsAnError()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: data/more } }"), DiagnosticCodes.DataFileMissing, 6, 56);

        Assert.That(error.Message, Does.Contain("input_0.pb"));
    }

    [Test]
    public void DataFileWithAnotherExtensionIsInvalid()
    {
        workspace.SingleError(
            SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: models/digits.onnx } }"), DiagnosticCodes.InvalidValue, 6, 56);
    }

    [Test]
    public void EmptyDataListIsInvalid()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: [] } }"), DiagnosticCodes.InvalidValue, 6, 56);
    }

    [Test]
    public void BadCalibrationMethodListsOurAndOrtSpellings()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: data/calib.npy, method: kl } }"), DiagnosticCodes.BadEnumValue, 6, 80);

        Assert.That(error.Message, Does.Contain("Allowed values: minmax, entropy, percentile, MinMax, Entropy, Percentile."));
    }

    [Test]
    public void CalibrateMethodConflictingWithMethodIsReportedAtTheAlias()
    {
        string yaml = SpecWorkspace.WithPass(
            "      - quantize:\n          mode: static\n          calibrate_method: Entropy\n          calibration: { data: data/calib.npy, method: minmax }\n");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.ConflictingOptions, 8, 29);

        Assert.That(error.Message, Does.Contain("conflicts with 'method: minmax'").And.Contain("(line 9)"));
    }

    [TestCase("samples: 0", 81, DiagnosticCodes.OutOfRange)]
    [TestCase("batch_size: 0", 84, DiagnosticCodes.OutOfRange)]
    [TestCase("batch_size: 1.5", 84, DiagnosticCodes.WrongType)]
    [TestCase("method: percentile, percentile: 0", 104, DiagnosticCodes.OutOfRange)]
    [TestCase("method: percentile, percentile: 100.5", 104, DiagnosticCodes.OutOfRange)]
    [TestCase("moving_average_constant: 1", 97, DiagnosticCodes.OutOfRange)]
    [TestCase("moving_average: 1", 88, DiagnosticCodes.WrongType)]
    [TestCase("symmetric: yes", 83, DiagnosticCodes.WrongType)]
    public void CalibrationValuesAreChecked(string option, int column, string code)
    {
        // "      - quantize: { mode: static, calibration: { data: data/calib.npy, " is 71 characters.
        workspace.SingleError(SpecWorkspace.WithPass($"      - quantize: {{ mode: static, calibration: {{ data: data/calib.npy, {option} }} }}"), code, 6, column);
    }

    [TestCase("percentile: 99.9", "method percentile; this calibration uses minmax")]
    [TestCase("method: entropy, moving_average: true", "method minmax; this calibration uses entropy")]
    public void KeyOfAnotherCalibrationMethodIsRejected(string option, string expected)
    {
        SpecLoadResult result = workspace.Parse(SpecWorkspace.WithPass($"      - quantize: {{ mode: static, calibration: {{ data: data/calib.npy, {option} }} }}"));

        Diagnostic error = result.Diagnostics.Single();
        Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.KeyNotApplicable));
        Assert.That(error.Message, Does.Contain(expected));
    }

    [Test]
    public void BadMethodDoesNotAlsoReportMethodSpecificKeys()
    {
        SpecLoadResult result = workspace.Parse(SpecWorkspace.WithPass("      - quantize: { mode: static, calibration: { data: data/calib.npy, method: pct, percentile: 99 } }"));

        Assert.That(result.Diagnostics.Select(d => d.Code), Is.EqualTo(new[] { DiagnosticCodes.BadEnumValue }));
    }

    [Test]
    public void UnknownExtraOptionSuggestsTheOrtSpelling()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass($"      - quantize: {{ mode: static, {Calib}, extra_options: {{ activation_symmetric: true }} }}"), DiagnosticCodes.UnknownKey, 6, 91);

        Assert.That(error.Message, Is.EqualTo("Unknown extra option 'activation_symmetric'. Did you mean 'ActivationSymmetric'?"));
    }

    [Test]
    public void OrtExtraOptionThatIsNotImplementedIsNotSupported()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass($"      - quantize: {{ mode: static, {Calib}, extra_options: {{ TensorQuantOverrides: {{}} }} }}"), DiagnosticCodes.NotSupportedInThisVersion, 6, 91);

        Assert.That(error.Message, Does.Contain("node_overrides"));
    }

    [Test]
    public void StaticOnlyExtraOptionWithDynamicIsRejected()
    {
        Diagnostic error = workspace.SingleError(
            SpecWorkspace.WithPass("      - quantize: { mode: dynamic, extra_options: { CalibPercentile: 99 } }"), DiagnosticCodes.KeyNotApplicable, 6, 53);

        Assert.That(error.Message, Does.Contain("only valid for mode static"));
    }

    [TestCase("ActivationSymmetric: 1", DiagnosticCodes.WrongType)]
    [TestCase("CalibMovingAverageConstant: 0", DiagnosticCodes.OutOfRange)]
    [TestCase("MinimumRealRange: -1", DiagnosticCodes.OutOfRange)]
    [TestCase("MinimumRealRange: .nan", DiagnosticCodes.OutOfRange)]
    public void ExtraOptionValuesAreChecked(string option, string code)
    {
        SpecLoadResult result = workspace.Parse(SpecWorkspace.WithPass($"      - quantize: {{ mode: static, {Calib}, extra_options: {{ {option} }} }}"));

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line)), Is.EqualTo(new[] { (code, 6) }));
    }

    [Test]
    public void ExtraOptionConflictingWithTheCalibrationKeyIsReportedAtTheExtraOption()
    {
        string yaml = SpecWorkspace.WithPass(
            "      - quantize:\n          mode: static\n          calibration: { data: data/calib.npy, symmetric: false }\n          extra_options:\n            CalibTensorRangeSymmetric: true\n");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.ConflictingOptions, 10, 40);

        Assert.That(error.Message, Does.Contain("conflicts with 'calibration: { symmetric: false }' (line 8)"));
    }

    [Test]
    public void KeepingFloatBiasWithQOperatorConflicts()
    {
        workspace.SingleError(
            SpecWorkspace.WithPass($"      - quantize: {{ mode: static, quant_format: QOperator, {Calib}, extra_options: {{ QuantizeBias: false }} }}"),
            DiagnosticCodes.ConflictingOptions,
            6,
            130);
    }

    [Test]
    public void NodeOverrideWithOnlyNodesIsMissingASetting()
    {
        string yaml = SpecWorkspace.WithPass($"      - quantize:\n          mode: static\n          {Calib}\n          node_overrides:\n            - nodes: fc1\n");

        workspace.SingleError(yaml, DiagnosticCodes.MissingKey, 10, 15);
    }

    [Test]
    public void NodeOverrideWithoutNodesIsMissingKey()
    {
        string yaml = SpecWorkspace.WithPass($"      - quantize:\n          mode: static\n          {Calib}\n          node_overrides:\n            - exclude: true\n");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.MissingKey, 10, 15);

        Assert.That(error.Message, Does.Contain("'nodes'"));
    }

    [Test]
    public void ExcludedNodeOverrideWithTypesConflicts()
    {
        string yaml = SpecWorkspace.WithPass($"      - quantize:\n          mode: static\n          {Calib}\n          node_overrides:\n            - {{ nodes: fc1, exclude: true, per_channel: true }}\n");

        workspace.SingleError(yaml, DiagnosticCodes.ConflictingOptions, 10, 44);
    }

    [Test]
    public void UnknownNodeOverrideKeySuggests()
    {
        string yaml = SpecWorkspace.WithPass($"      - quantize:\n          mode: static\n          {Calib}\n          node_overrides:\n            - {{ node: fc1, exclude: true }}\n");

        SpecLoadResult result = workspace.Parse(yaml);

        // The misspelt required key is one error, not also a missing 'nodes'.
        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line, d.Column)), Is.EqualTo(new[] { (DiagnosticCodes.UnknownKey, 10, 17) }));
        Assert.That(result.Diagnostics[0].Message, Does.EndWith("Did you mean 'nodes'?"));
    }

    // "      - quantize: { mode: weight_only, " is 39 characters: values of "key: " start after it.
    [TestCase("bits: 3", 46, DiagnosticCodes.BadEnumValue)]
    [TestCase("bits: four", 46, DiagnosticCodes.WrongType)]
    [TestCase("block_size: 8", 52, DiagnosticCodes.OutOfRange)]
    [TestCase("block_size: 512", 52, DiagnosticCodes.OutOfRange)]
    [TestCase("block_size: 48", 52, DiagnosticCodes.InvalidValue)]
    [TestCase("accuracy_level: 5", 56, DiagnosticCodes.OutOfRange)]
    [TestCase("symmetric: 0", 51, DiagnosticCodes.WrongType)]
    [TestCase("scale_type: half", 52, DiagnosticCodes.BadEnumValue)]
    [TestCase("scale_type: Float16", 52, DiagnosticCodes.BadEnumValue)]
    public void WeightOnlyValuesAreChecked(string option, int column, string code)
    {
        workspace.SingleError(SpecWorkspace.WithPass($"      - quantize: {{ mode: weight_only, {option} }}"), code, 6, column);
    }

    [Test]
    public void BlockSizeNotAPowerOfTwoSaysSo()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - quantize: { mode: weight_only, block_size: 48 }"), DiagnosticCodes.InvalidValue, 6, 52);

        Assert.That(error.Message, Does.Contain("not a power of two"));
    }

    [Test]
    public void BareQuantizeStillNeedsItsOptions()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - quantize"), DiagnosticCodes.MissingKey, 6, 9);
    }

    [Test]
    public void UnknownFloat16OptionSuggests()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - float16: { keep_io_type: true }"), DiagnosticCodes.UnknownKey, 6, 20);

        Assert.That(error.Message, Is.EqualTo("Unknown key 'keep_io_type' in float16 options. Did you mean 'keep_io_types'?"));
    }

    [Test]
    public void BadOpTypeInBlockListIsReportedAtTheItem()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - float16: { op_block_list: [Resize, 'not an op'] }"), DiagnosticCodes.InvalidValue, 6, 44);
    }

    [Test]
    public void Float16OptionsThatAreNotAMappingAreWrongType()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - float16: true"), DiagnosticCodes.WrongType, 6, 18);
    }

    [Test]
    public void CleanupSwitchMustBeABoolean()
    {
        workspace.SingleError(SpecWorkspace.WithPass("      - cleanup: { fold_constants: no }"), DiagnosticCodes.WrongType, 6, 36);
    }

    [Test]
    public void CleanupOptionThatLostItsIndentationIsOneError()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - cleanup:\n        fold_constants: false"), DiagnosticCodes.UnknownKey, 7, 9);

        Assert.That(error.Message, Does.Contain("'fold_constants' is an option of 'cleanup'"));
    }

    [Test]
    public void UnknownPassNameListsTheNewPasses()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - distill: {}"), DiagnosticCodes.UnknownKey, 6, 9);

        Assert.That(error.Message, Is.EqualTo("Unknown pass 'distill'. Known passes: quantize, float16, cleanup, prune, reconstruct."));
    }

    [Test]
    public void Float16MisspeltSuggestsFloat16()
    {
        Diagnostic error = workspace.SingleError(SpecWorkspace.WithPass("      - fp16: {}"), DiagnosticCodes.UnknownKey, 6, 9);

        Assert.That(error.Message, Does.StartWith("Unknown pass 'fp16'."));
    }
}
