using Compress.Core.Pipeline;
using Compress.Core.Tests.Evaluation;
using Compress.Core.Tests.Passes;
using Compress.Runtime;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Pipeline;

/// <summary>
/// Pass combinations users write, on the two small shared classifiers, checked the way an app meets them: the build
/// succeeds and Compress.Runtime, with its default options, loads the shipped <c>.onnx.br</c> and agrees with the fp32
/// model. Each case once failed: QOperator copied Gemm's <c>beta</c> onto QGemm (ORT refused the model), weight-only
/// int8 Conv weights ran in <c>compress eval</c> but not in <c>CompressedModel</c>, and static then float16 ended in
/// an internal error while measuring activations.
/// </summary>
public class PassCombinationTests
{
    private const int Samples = 200;

    private static readonly string[] Passes =
    [
        "quantize: { mode: static, quant_format: QOperator, calibration: { data: CALIB, samples: 64 } }",
        "quantize: { mode: static, per_channel: true, calibration: { data: CALIB, method: entropy, samples: 64 } }",
        "quantize: { mode: dynamic, op_types_to_quantize: [MatMul, Gemm, Conv] }",
        "quantize: { mode: weight_only, bits: 8, block_size: 64, op_types_to_quantize: [MatMul, Gemm, Conv] }",
        "quantize: { mode: weight_only, bits: 4, block_size: 16, symmetric: false }",
        "prune: { method: magnitude, pattern: '2:4' }\n      - quantize: { mode: static, quant_format: QOperator, calibration: { data: CALIB, samples: 64 } }",
        "prune: { method: structured, ratio: 0.25 }\n      - reconstruct: { data: CALIB }\n      - quantize: { mode: static, calibration: { data: CALIB, samples: 64 } }",
        "quantize: { mode: static, calibration: { data: CALIB, samples: 64 } }\n      - float16: { keep_io_types: true }",
    ];

    private static IEnumerable<TestCaseData> Cases() =>
        from model in new[] { ("digits-mlp", "digits", new long[] { 64 }), ("fashion-cnn", "fashion", new long[] { 1, 28, 28 }) }
        from index in Enumerable.Range(0, Passes.Length)
        select new TestCaseData(model.Item1, model.Item2, model.Item3, Passes[index])
            .SetArgDisplayNames(model.Item1, $"passes {index}")
            .SetDescription(Passes[index]);

    [TestCaseSource(nameof(Cases))]
    public void BuildsAndRunsInCompressRuntime(string modelName, string dataPrefix, long[] sampleShape, string passes)
    {
        string calibration = EvaluationWorkspace.SharedPath(TestPaths.SharedData($"{dataPrefix}_calib_x.npy"));
        using var workspace = new EvaluationWorkspace();
        PipelineResult result = workspace.Run($"""
            version: 1
            models:
              - name: m
                source: {EvaluationWorkspace.SharedPath(TestPaths.SharedModel(modelName))}
                pack: brotli
                passes:
                  - {passes.Replace("CALIB", calibration, StringComparison.Ordinal)}
            """);
        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));

        float[] x = NpyArray.Load(TestPaths.SharedData($"{dataPrefix}_test_x.npy")).ToSingleArray()[..(Samples * (int)sampleShape.Aggregate(1L, (a, b) => a * b))];
        long[] shape = [Samples, .. sampleShape];
        using CompressedModel original = CompressedModel.Load(TestPaths.SharedModel(modelName));
        using CompressedModel shipped = CompressedModel.Load(Path.Combine(workspace.Output, "m.onnx.br"));
        int[] expected = Top1(original.Run(x, shape));
        int[] actual = Top1(shipped.Run(x, shape));

        // Loose on purpose (structured pruning of a quarter of the network is in the list): the point is an app that runs.
        double agreement = expected.Zip(actual).Count(p => p.First == p.Second) / (double)Samples;
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.9), $"top-1 agreement with fp32 on {Samples} test samples");
    }

    private static int[] Top1(ModelOutput output) => OrtRunner.ArgMax(output.AsSpan<float>().ToArray(), (int)output.Shape[^1]);
}
