using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>Valid specs load into the expected typed values; the documented example keeps working.</summary>
public sealed class SpecLoaderContractTests
{
    // The example promised to keep working in every later version (docs/compress-yaml.md).
    private const string ContractExample = """
        # yaml-language-server: $schema=compress.schema.yaml
        version: 1
        models:
          - name: digits-int8              # output file digits-int8.onnx (+ digits-int8.report.json)
            source: models/digits.onnx     # relative to this file
            passes:
              - quantize:
                  mode: dynamic            # dynamic | static | weight_only (later issues)
                  per_channel: true
                  op_types_to_quantize: [MatMul, Gemm]
        """;

    private static readonly string[] MatMulAndGemm = ["MatMul", "Gemm"];
    private static readonly string[] MatMulOnly = ["MatMul"];
    private static readonly string[] NodeNames = ["fc1", "45"];
    private static readonly string[] NodeGlobs = ["*attn*", "fc?"];
    private static readonly string[] FileOrder = ["b", "a"];

    private SpecWorkspace workspace = null!;

    [SetUp]
    public void CreateWorkspace() => workspace = new SpecWorkspace();

    [TearDown]
    public void DeleteWorkspace() => workspace.Dispose();

    [Test]
    public void ContractExampleParsesToTypedValues()
    {
        SpecLoadResult result = workspace.Parse(ContractExample);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(result.Succeeded, Is.True);
        CompressSpec spec = result.Spec!;
        Assert.Multiple(() =>
        {
            Assert.That(spec.SpecPath, Is.EqualTo(workspace.SpecPath));
            Assert.That(spec.SpecDirectory, Is.EqualTo(workspace.Folder));
            Assert.That(spec.Version, Is.EqualTo(1));
            Assert.That(spec.Models, Has.Count.EqualTo(1));
        });

        ModelSpec model = spec.Models[0];
        Assert.Multiple(() =>
        {
            Assert.That(model.Name, Is.EqualTo("digits-int8"));
            Assert.That(model.SourcePath, Is.EqualTo(workspace.ModelPath));
            Assert.That(model.OutputPath, Is.EqualTo("digits-int8.onnx"));
            Assert.That(model.ReportPath, Is.EqualTo("digits-int8.report.json"));
            Assert.That(model.Location, Is.EqualTo(new SourceLocation(workspace.SpecPath, 4, 5)));
            Assert.That(model.Passes, Has.Count.EqualTo(1));
        });

        var quantize = (QuantizePassSpec)model.Passes[0];
        Assert.Multiple(() =>
        {
            Assert.That(quantize.Kind, Is.EqualTo("quantize"));
            Assert.That(quantize.Location, Is.EqualTo(new SourceLocation(workspace.SpecPath, 7, 9)));
            Assert.That(quantize.Mode, Is.EqualTo(QuantizationMode.Dynamic));
            Assert.That(quantize.PerChannel, Is.True);
            Assert.That(quantize.ReduceRange, Is.False);
            Assert.That(quantize.WeightType, Is.EqualTo(QuantType.QInt8));
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(MatMulAndGemm));
            Assert.That(quantize.NodesToQuantize, Is.Empty);
            Assert.That(quantize.NodesToExclude, Is.Empty);
        });
    }

    [Test]
    public void OmittedOptionsTakeTheirDocumentedDefaults()
    {
        SpecLoadResult result = workspace.Parse("""
            version: 1
            models:
              - name: m
                source: models/digits.onnx
                passes:
                  - quantize: { mode: dynamic }
            """);

        var quantize = (QuantizePassSpec)result.Spec!.Models[0].Passes[0];
        Assert.Multiple(() =>
        {
            Assert.That(quantize.PerChannel, Is.False);
            Assert.That(quantize.ReduceRange, Is.False);
            Assert.That(quantize.WeightType, Is.EqualTo(QuantType.QInt8));
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(MatMulAndGemm));
            Assert.That(quantize.NodesToQuantize, Is.Empty);
            Assert.That(quantize.NodesToExclude, Is.Empty);
        });
    }

    [Test]
    public void EveryOptionIsRead()
    {
        SpecLoadResult result = workspace.Parse("""
            version: 1
            models:
              - name: m
                source: models/digits.onnx
                output: int8/digits.onnx
                passes:
                  - quantize:
                      mode: dynamic
                      per_channel: false
                      reduce_range: true
                      weight_type: uint8
                      op_types_to_quantize: [MatMul]
                      nodes_to_quantize: [fc1, "45"]
                      nodes_to_exclude: ["*attn*", fc?]
            """);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        ModelSpec model = result.Spec!.Models[0];
        var quantize = (QuantizePassSpec)model.Passes[0];
        Assert.Multiple(() =>
        {
            Assert.That(model.OutputPath, Is.EqualTo("int8/digits.onnx"));
            Assert.That(model.ReportPath, Is.EqualTo("int8/m.report.json"));
            Assert.That(quantize.ReduceRange, Is.True);
            Assert.That(quantize.WeightType, Is.EqualTo(QuantType.QUInt8));
            Assert.That(quantize.OpTypesToQuantize, Is.EqualTo(MatMulOnly));
            Assert.That(quantize.NodesToQuantize, Is.EqualTo(NodeNames));
            Assert.That(quantize.NodesToExclude, Is.EqualTo(NodeGlobs));
        });
    }

    [TestCase("QInt8", QuantType.QInt8)]
    [TestCase("QUInt8", QuantType.QUInt8)]
    [TestCase("int8", QuantType.QInt8)]
    [TestCase("UINT8", QuantType.QUInt8)]
    [TestCase("qint8", QuantType.QInt8)]
    public void WeightTypeAcceptsOrtAndShortSpellingsInAnyCase(string written, QuantType expected)
    {
        SpecLoadResult result = workspace.Parse($$"""
            version: 1
            models:
              - name: m
                source: models/digits.onnx
                passes: [{ quantize: { mode: dynamic, weight_type: {{written}} } }]
            """);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(((QuantizePassSpec)result.Spec!.Models[0].Passes[0]).WeightType, Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("    passes:\n")]
    [TestCase("    passes: []\n")]
    public void MissingOrEmptyPassesAreAllowed(string passes)
    {
        SpecLoadResult result = workspace.Parse("version: 1\nmodels:\n  - name: m\n    source: models/digits.onnx\n" + passes);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(result.Spec!.Models[0].Passes, Is.Empty);
    }

    [Test]
    public void SeveralModelsKeepFileOrderAndOutputPathsAreNormalized()
    {
        SpecLoadResult result = workspace.Parse("""
            version: 1
            models:
              - name: b
                source: ./models/../models/digits.onnx
                output: out\sub/./b.onnx
              - name: a
                source: models/digits.onnx
            """);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        IReadOnlyList<ModelSpec> models = result.Spec!.Models;
        Assert.Multiple(() =>
        {
            Assert.That(models.Select(m => m.Name), Is.EqualTo(FileOrder));
            Assert.That(models[0].SourcePath, Is.EqualTo(workspace.ModelPath));
            Assert.That(models[0].OutputPath, Is.EqualTo("out/sub/b.onnx"));
            Assert.That(models[0].ReportPath, Is.EqualTo("out/sub/b.report.json"));
            Assert.That(models[1].Location.Line, Is.EqualTo(6));
        });
    }

    [Test]
    public void LoadReadsTheFileAndResolvesSourcesNextToIt()
    {
        File.WriteAllText(workspace.SpecPath, ContractExample);

        SpecLoadResult result = SpecLoader.Load(workspace.SpecPath);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(result.Spec!.Models[0].SourcePath, Is.EqualTo(workspace.ModelPath));
    }
}
