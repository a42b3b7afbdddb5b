using Compress.Core.Calibration;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>Static, weight-only, float16 and cleanup passes load into the expected typed values.</summary>
public sealed class SpecQuantizationContractTests
{
    // The two snippets promised by the quantization issue, verbatim.
    private const string StaticSnippet = """
              - quantize:
                  mode: static               # QDQ unless quant_format: QOperator
                  per_channel: true
                  calibration:
                    data: data/calib.npy     # the data convention of the foundation issue
                    method: entropy          # minmax | entropy | percentile
                    samples: 256
        """;

    private const string WeightOnlySnippet = "      - quantize: { mode: weight_only, bits: 4, block_size: 32 }";

    private static readonly string[] ConvMatMulGemm = ["Conv", "MatMul", "Gemm"];
    private static readonly string[] MatMulAndGemm = ["MatMul", "Gemm"];
    private static readonly string[] MatMulGemmAndConv = ["MatMul", "Gemm", "Conv"];
    private static readonly string[] ConvGemm = ["Conv", "Gemm"];
    private static readonly string[] LmHead = ["lm_head"];
    private static readonly string[] SoftmaxOnly = ["Softmax"];
    private static readonly string[] HeadGlob = ["/head/*"];
    private static readonly string[] AllKinds = ["cleanup", "float16", "quantize"];

    private SpecWorkspace workspace = null!;

    [SetUp]
    public void CreateWorkspace() => workspace = new SpecWorkspace();

    [TearDown]
    public void DeleteWorkspace() => workspace.Dispose();

    [Test]
    public void StaticSnippetParsesToTypedValues()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>(StaticSnippet);

        Assert.Multiple(() =>
        {
            Assert.That(quantize.Location, Is.EqualTo(new SourceLocation(workspace.SpecPath, 6, 9)));
            Assert.That(quantize.Mode, Is.EqualTo(QuantizationMode.Static));
            Assert.That(quantize.QuantFormat, Is.EqualTo(QuantFormat.QDQ));
            Assert.That(quantize.PerChannel, Is.True);
            Assert.That(quantize.ActivationType, Is.EqualTo(QuantType.QUInt8));
            Assert.That(quantize.WeightType, Is.EqualTo(QuantType.QInt8));
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(Compress.Core.Passes.StaticQuantizationOptions.SupportedOpTypes));
            Assert.That(quantize.QuantizeBias, Is.True);
            Assert.That(quantize.WeightSymmetric, Is.Null);
            Assert.That(quantize.NodeOverrides, Is.Empty);
        });

        CalibrationSpec calibration = quantize.Calibration!;
        Assert.Multiple(() =>
        {
            Assert.That(calibration.DataPaths, Is.EqualTo(new[] { workspace.PathOf("data/calib.npy") }));
            Assert.That(calibration.Method, Is.EqualTo(CalibrationMethod.Entropy));
            Assert.That(calibration.Samples, Is.EqualTo(256));
            Assert.That(calibration.BatchSize, Is.EqualTo(16));
            Assert.That(calibration.Percentile, Is.EqualTo(99.999));
            Assert.That(calibration.MovingAverage, Is.False);
            Assert.That(calibration.MovingAverageConstant, Is.EqualTo(0.01));
            Assert.That(calibration.SymmetricRange, Is.False);
            Assert.That(calibration.Location, Is.EqualTo(new SourceLocation(workspace.SpecPath, 9, 11)));
        });
    }

    [Test]
    public void WeightOnlySnippetParsesToTypedValues()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>(WeightOnlySnippet);

        Assert.Multiple(() =>
        {
            Assert.That(quantize.Mode, Is.EqualTo(QuantizationMode.WeightOnly));
            Assert.That(quantize.Bits, Is.EqualTo(4));
            Assert.That(quantize.BlockSize, Is.EqualTo(32));
            Assert.That(quantize.Symmetric, Is.True);
            Assert.That(quantize.AccuracyLevel, Is.Null);
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(MatMulGemmAndConv));
            Assert.That(quantize.Calibration, Is.Null);
        });
    }

    [Test]
    public void WeightOnlyReadsEveryOption()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>(
            "      - quantize: { mode: weight_only, bits: 8, block_size: 128, symmetric: false, accuracy_level: 4, scale_type: float16, nodes_to_exclude: [lm_head] }");

        Assert.Multiple(() =>
        {
            Assert.That((quantize.Bits, quantize.BlockSize, quantize.Symmetric, quantize.AccuracyLevel), Is.EqualTo((8, 128, false, (int?)4)));
            Assert.That(quantize.ScaleType, Is.EqualTo(WeightScaleType.Float16));
            Assert.That(quantize.NodesToExclude, Is.EqualTo(LmHead));
        });
    }

    [Test]
    public void FullStaticExampleWithExtraOptionsAndNodeOverrides()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>("""
                  - quantize:
                      mode: static
                      quant_format: QOperator
                      activation_type: QUInt8
                      weight_type: QInt8
                      reduce_range: true
                      op_types_to_quantize: [Conv, Gemm]
                      nodes_to_exclude: ["/head/*"]
                      calibrate_method: Percentile
                      calibration:
                        data: [data/calib.npy, "data/more/*.npz", data/sets/one]
                        batch_size: 8
                        percentile: 99.9
                        symmetric: false
                      extra_options:
                        ActivationSymmetric: true
                        WeightSymmetric: false
                        CalibPercentile: 99.9
                        QuantizeBias: true
                        MinimumRealRange: 0.0001
                        MatMulConstBOnly: true
                        ForceQuantizeNoInputCheck: true
                      node_overrides:
                        - { nodes: "/features/0/*", per_channel: false, weight_type: QUInt8 }
                        - { nodes: "/features/1?/*", exclude: true }
            """);

        Assert.Multiple(() =>
        {
            Assert.That(quantize.QuantFormat, Is.EqualTo(QuantFormat.QOperator));
            Assert.That(quantize.ReduceRange, Is.True);
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(ConvGemm));
            Assert.That(quantize.ActivationSymmetric, Is.True);
            Assert.That(quantize.WeightSymmetric, Is.False);
            Assert.That(quantize.QuantizeBias, Is.True);
            Assert.That(quantize.MinimumRealRange, Is.EqualTo(0.0001f));
            Assert.That(quantize.MatMulConstBOnly, Is.True);
            Assert.That(quantize.ForceQuantizeNoInputCheck, Is.True);
        });

        CalibrationSpec calibration = quantize.Calibration!;
        Assert.Multiple(() =>
        {
            // Globs stay globs, made absolute; plain paths are full paths; a folder of input_N.pb counts as data.
            Assert.That(calibration.DataPaths, Is.EqualTo(new[]
            {
                workspace.PathOf("data/calib.npy"),
                workspace.PathOf("data/more/*.npz"),
                workspace.PathOf("data/sets/one"),
            }));
            Assert.That(calibration.ExpandDataPaths(), Is.EqualTo(new[]
            {
                workspace.PathOf("data/calib.npy"),
                workspace.PathOf("data/more/a.npz"),
                workspace.PathOf("data/more/b.npz"),
                workspace.PathOf("data/sets/one"),
            }));
            Assert.That(calibration.Method, Is.EqualTo(CalibrationMethod.Percentile));
            Assert.That(calibration.BatchSize, Is.EqualTo(8));
            Assert.That(calibration.Percentile, Is.EqualTo(99.9));
            Assert.That(calibration.SymmetricRange, Is.False);
        });

        Assert.That(quantize.NodeOverrides, Has.Count.EqualTo(2));
        NodeOverrideSpec first = quantize.NodeOverrides[0], second = quantize.NodeOverrides[1];
        Assert.Multiple(() =>
        {
            Assert.That((first.Nodes, first.PerChannel, first.WeightType, first.ActivationType, first.Exclude), Is.EqualTo(("/features/0/*", (bool?)false, (QuantType?)QuantType.QUInt8, (QuantType?)null, (bool?)null)));
            Assert.That((second.Nodes, second.Exclude), Is.EqualTo(("/features/1?/*", (bool?)true)));
            Assert.That(second.Location, Is.EqualTo(new SourceLocation(workspace.SpecPath, 30, 15)));

            Assert.That(quantize.SettingsFor("/features/0/Conv"), Is.EqualTo(new NodeQuantizationSettings(true, QuantType.QUInt8, QuantType.QUInt8, false)));
            Assert.That(quantize.SettingsFor("/features/12/Conv").Quantize, Is.False);
            Assert.That(quantize.SettingsFor("/head/Gemm").Quantize, Is.False);
            Assert.That(quantize.SettingsFor("/features/3/Conv"), Is.EqualTo(new NodeQuantizationSettings(true, QuantType.QUInt8, QuantType.QInt8, false)));
        });
    }

    [TestCase("minmax", CalibrationMethod.MinMax)]
    [TestCase("MinMax", CalibrationMethod.MinMax)]
    [TestCase("entropy", CalibrationMethod.Entropy)]
    [TestCase("Entropy", CalibrationMethod.Entropy)]
    [TestCase("percentile", CalibrationMethod.Percentile)]
    [TestCase("Percentile", CalibrationMethod.Percentile)]
    public void MethodAcceptsOurAndOrtSpellingsInBothPlaces(string written, CalibrationMethod expected)
    {
        QuantizePassSpec viaMethod = SinglePass<QuantizePassSpec>($"      - quantize: {{ mode: static, calibration: {{ data: data/calib.npy, method: {written} }} }}");
        QuantizePassSpec viaAlias = SinglePass<QuantizePassSpec>($"      - quantize: {{ mode: static, calibrate_method: {written}, calibration: {{ data: data/calib.npy }} }}");

        Assert.Multiple(() =>
        {
            Assert.That(viaMethod.Calibration!.Method, Is.EqualTo(expected));
            Assert.That(viaAlias.Calibration!.Method, Is.EqualTo(expected));
        });
    }

    [Test]
    public void AliasAndMethodThatAgreeAreAccepted()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>(
            "      - quantize: { mode: static, calibrate_method: Entropy, calibration: { data: data/calib.npy, method: entropy } }");

        Assert.That(quantize.Calibration!.Method, Is.EqualTo(CalibrationMethod.Entropy));
    }

    [TestCase("minmax", false)]
    [TestCase("entropy", false)]
    [TestCase("percentile", true)]
    public void SymmetricRangeDefaultsToOrtsCalibratorDefault(string method, bool expected)
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>($"      - quantize: {{ mode: static, calibration: {{ data: data/calib.npy, method: {method} }} }}");

        Assert.That(quantize.Calibration!.SymmetricRange, Is.EqualTo(expected));
    }

    [Test]
    public void CalibExtraOptionsFillTheCalibrationSettings()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>("""
                  - quantize:
                      mode: static
                      calibration: { data: data/calib.npy }
                      extra_options: { CalibMovingAverage: true, CalibMovingAverageConstant: 0.2, CalibTensorRangeSymmetric: true }
            """);

        CalibrationSpec calibration = quantize.Calibration!;
        Assert.That((calibration.MovingAverage, calibration.MovingAverageConstant, calibration.SymmetricRange), Is.EqualTo((true, 0.2, true)));
    }

    [TestCase("QInt16", QuantType.QInt16)]
    [TestCase("quint16", QuantType.QUInt16)]
    [TestCase("int16", QuantType.QInt16)]
    public void SixteenBitTypesAreAcceptedForStaticQdq(string written, QuantType expected)
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>(
            $"      - quantize: {{ mode: static, activation_type: {written}, weight_type: {written}, calibration: {{ data: data/calib.npy }} }}");

        Assert.That((quantize.ActivationType, quantize.WeightType), Is.EqualTo((expected, expected)));
    }

    [Test]
    public void RecursiveGlobIsKeptAndMatchesNestedFiles()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>("      - quantize: { mode: static, calibration: { data: 'data/**/*.npz' } }");

        Assert.That(quantize.Calibration!.ExpandDataPaths(), Is.EqualTo(new[] { workspace.PathOf("data/more/a.npz"), workspace.PathOf("data/more/b.npz") }));
    }

    [Test]
    public void DynamicModeKeepsItsDefaultsAndReadsExtraOptions()
    {
        QuantizePassSpec quantize = SinglePass<QuantizePassSpec>(
            "      - quantize: { mode: dynamic, extra_options: { WeightSymmetric: false, MatMulConstBOnly: false, MinimumRealRange: 2 } }");

        Assert.Multiple(() =>
        {
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(QuantizePassSpec.DefaultOpTypesToQuantize));
            Assert.That(quantize.ActivationType, Is.EqualTo(QuantType.QUInt8));
            Assert.That(quantize.WeightSymmetric, Is.False);
            Assert.That(quantize.MatMulConstBOnly, Is.False);
            Assert.That(quantize.MinimumRealRange, Is.EqualTo(2f));
            Assert.That(quantize.Calibration, Is.Null);
        });
    }

    [TestCase("      - float16")]
    [TestCase("      - float16:")]
    [TestCase("      - float16: {}")]
    public void Float16WithoutOptionsTakesTheConverterDefaults(string pass)
    {
        Float16PassSpec float16 = SinglePass<Float16PassSpec>(pass);

        Assert.Multiple(() =>
        {
            Assert.That(float16.Kind, Is.EqualTo("float16"));
            Assert.That(float16.Location, Is.EqualTo(new SourceLocation(workspace.SpecPath, 6, 9)));
            Assert.That(float16.KeepIoTypes, Is.False);
            Assert.That(float16.OpBlockList, Is.EqualTo(Float16PassSpec.DefaultOpBlockList));
            Assert.That(float16.OpBlockList, Does.Contain("Resize").And.Contain("TopK"));
            Assert.That(float16.NodeBlockList, Is.Empty);
        });
    }

    [Test]
    public void Float16DefaultBlockListIsThePassDefault() =>
        Assert.That(Float16PassSpec.DefaultOpBlockList, Is.EqualTo(Compress.Core.Passes.Float16ConversionOptions.DefaultOpBlockList));

    [Test]
    public void Float16ReadsEveryOption()
    {
        Float16PassSpec float16 = SinglePass<Float16PassSpec>("      - float16: { keep_io_types: true, op_block_list: [Softmax], node_block_list: [\"/head/*\"] }");

        Assert.Multiple(() =>
        {
            Assert.That(float16.KeepIoTypes, Is.True);
            Assert.That(float16.OpBlockList, Is.EqualTo(SoftmaxOnly));
            Assert.That(float16.NodeBlockList, Is.EqualTo(HeadGlob));
            Assert.That(float16.BlocksNode("Softmax", "x"), Is.True);
            Assert.That(float16.BlocksNode("Conv", "/head/Conv"), Is.True);
            Assert.That(float16.BlocksNode("Resize", "/body/Resize"), Is.False);
        });
    }

    [Test]
    public void EmptyOpBlockListBlocksNothing() =>
        Assert.That(SinglePass<Float16PassSpec>("      - float16: { op_block_list: [] }").OpBlockList, Is.Empty);

    [TestCase("      - cleanup")]
    [TestCase("      - cleanup: {}")]
    public void CleanupWithoutOptionsTurnsEverythingOn(string pass)
    {
        CleanupPassSpec cleanup = SinglePass<CleanupPassSpec>(pass);

        Assert.That(
            new[] { cleanup.RemoveIdentity, cleanup.RemoveDropout, cleanup.RemoveDeadNodes, cleanup.FoldBatchNorm, cleanup.FoldConstants, cleanup.FuseHardSwish },
            Is.All.True);
    }

    [Test]
    public void CleanupReadsEverySwitch()
    {
        CleanupPassSpec cleanup = SinglePass<CleanupPassSpec>(
            "      - cleanup: { remove_identity: false, remove_dropout: true, remove_dead_nodes: false, fold_batch_norm: false, fold_constants: true, fuse_hard_swish: false }");

        Assert.That(
            (cleanup.RemoveIdentity, cleanup.RemoveDropout, cleanup.RemoveDeadNodes, cleanup.FoldBatchNorm, cleanup.FoldConstants, cleanup.FuseHardSwish),
            Is.EqualTo((false, true, false, false, true, false)));
    }

    [Test]
    public void PassesOfEveryKindKeepFileOrder()
    {
        SpecLoadResult result = workspace.Parse(SpecWorkspace.WithPass(
            "      - cleanup\n      - float16: { keep_io_types: true }\n      - quantize: { mode: dynamic }\n"));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(result.Spec!.Models[0].Passes.Select(p => p.Kind), Is.EqualTo(AllKinds));
    }

    private T SinglePass<T>(string pass)
        where T : PassSpec
    {
        SpecLoadResult result = workspace.Parse(SpecWorkspace.WithPass(pass));
        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(result.Spec!.Models[0].Passes, Has.Count.EqualTo(1));
        return (T)result.Spec.Models[0].Passes[0];
    }
}
