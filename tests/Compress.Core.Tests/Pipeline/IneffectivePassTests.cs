using Compress.Core.Diagnostics;
using Compress.Core.Pipeline;
using Compress.Core.Spec;
using Compress.Core.Tests.Onnx;
using Compress.Core.Tests.Passes;
using Compress.Core.Tests.Pruning;

namespace Compress.Core.Tests.Pipeline;

/// <summary>A pass that changes nothing is a CMP3001 warning at its line in compress.yaml, with the reasons.</summary>
public class IneffectivePassTests
{
    [Test]
    public void PruneAfterQuantizeWarnsAtThePruneWithTheSkipReasonAndTheRemedy()
    {
        PipelineResult result = Run(
            "fashion-cnn",
            "      - quantize: { mode: weight_only, op_types_to_quantize: [MatMul, Gemm, Conv] }\n" +
            "      - prune: { method: magnitude, sparsity: 0.5 }\n",
            out string specPath);

        Assert.That(result.Succeeded, Is.True, "a warning, the model is still written");
        Diagnostic warning = result.Diagnostics.Single();
        Assert.That(
            (warning.Severity, warning.Code, warning.File, warning.Line, warning.Column),
            Is.EqualTo((DiagnosticSeverity.Warning, DiagnosticCodes.PassChangedNothing, specPath, 7, 9)),
            "the prune pass, not the quantize pass before it");
        Assert.That(warning.Message, Is.EqualTo(
            "Model 'm': 'prune' pruned no layer; 2 node(s) skipped: its weight is not a constant (2). " +
            "An earlier pass may have replaced the float weights already: prune and reconstruct go before quantize."));
    }

    [Test]
    public void QuantizeOfUnselectedOpTypesWarnsWithTheKeyToChange()
    {
        PipelineResult result = Run("digits-mlp", "      - quantize: { mode: dynamic, op_types_to_quantize: [LSTM] }\n", out _);

        Diagnostic warning = result.Diagnostics.Single();
        Assert.That((warning.Code, warning.Line), Is.EqualTo((DiagnosticCodes.PassChangedNothing, 6)));
        Assert.That(warning.Message, Is.EqualTo(
            "Model 'm': 'quantize' (mode dynamic) quantized no node; 3 node(s) skipped: op type not selected (3). " +
            "op_types_to_quantize selects which operators are quantized."));
        Assert.That(warning.ToString(), Does.Contain(": warning CMP3001: "), "the canonical form MSBuild turns into a build warning");
    }

    [Test]
    public void WeightOnlyOnAModelWithoutMatMulWarnsThatNothingMatched()
    {
        PipelineResult result = Run("ocr-det", "      - quantize: { mode: weight_only, bits: 4, op_types_to_quantize: [MatMul, Gemm] }\n", out _);

        Diagnostic warning = result.Diagnostics.Single();
        Assert.That(warning.Message, Is.EqualTo(
            "Model 'm': 'quantize' (mode weight_only) quantized no node: no node of the model is one it handles " +
            "(check op_types_to_quantize, nodes_to_quantize or the model's operators)."));
    }

    [Test]
    public void PassesThatDoTheirWorkAddNoWarning()
    {
        PipelineResult result = Run(
            "digits-mlp",
            "      - prune: { method: magnitude, sparsity: 0.5 }\n" +
            "      - quantize: { mode: dynamic }\n",
            out _);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
    }

    private static PipelineResult Run(string model, string passes, out string specPath)
    {
        using var folder = new TempFolder();
        string yaml = $"version: 1\nmodels:\n  - name: m\n    source: {SharedMaterial.ModelPath(model)}\n    passes:\n{passes}";
        specPath = folder.File("compress.yaml");
        File.WriteAllText(specPath, yaml);
        SpecLoadResult loaded = SpecLoader.Load(specPath);
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));
        return new CompressPipeline(new SilentPipelineLog()).Run(loaded.Spec!, folder.File("out"));
    }
}
