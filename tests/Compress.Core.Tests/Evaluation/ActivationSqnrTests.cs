using Compress.Core.Calibration;
using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Pipeline;
using Compress.Core.Spec;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Evaluation;

public class ActivationSqnrTests
{
    private const int Samples = 32;
    private static readonly string[] DigitsHiddenRelus = ["/Relu", "/Relu_1"];

    private static CalibrationDataSet FashionData(ModelProto model) =>
        CalibrationDataSet.Open([TestPaths.SharedData("fashion_calib_x.npy")], model, Samples);

    [Test]
    public void AnUnchangedModelHasNoNoiseInAnyTensor()
    {
        ModelProto model = OnnxModelFile.Load(TestPaths.SharedModel("fashion-cnn"));

        IReadOnlyList<ActivationQuantizationError> errors = ActivationSqnr.Measure(model, model.Clone(), FashionData(model), Samples);

        Assert.That(errors, Is.Not.Empty);
        Assert.That(errors.Select(e => e.SqnrDb), Is.All.EqualTo(200), "an exact match is reported at the 200 dB ceiling");
    }

    [Test]
    public void StaticInt8TensorsAreRankedWorstFirstAndTheOutputMatchesADirectComputation()
    {
        ModelProto original = OnnxModelFile.Load(TestPaths.SharedModel("fashion-cnn"));
        ModelProto quantized = original.Clone();
        PassRunner.Run(quantized, new QuantizePassSpec
        {
            Mode = QuantizationMode.Static,
            PerChannel = true,
            OpTypesToQuantize = StaticQuantizationOptions.SupportedOpTypes,
            Calibration = new CalibrationSpec { DataPaths = [TestPaths.SharedData("fashion_calib_x.npy")], Samples = 64 },
        });

        IReadOnlyList<ActivationQuantizationError> errors = ActivationSqnr.Measure(original, quantized, FashionData(original), Samples);

        double[] sqnr = [.. errors.Select(e => e.SqnrDb)];
        string measured = string.Join(", ", errors.Select(e => $"{e.Tensor} {e.SqnrDb}"));
        Assert.That(sqnr, Is.Ordered.Ascending, "worst tensors first");

        // The 1-channel first Conv stays float (IntegerConvKernels), so its output is exact; every other tensor is int8.
        Assert.That(errors.Single(e => e.Tensor == "/c1/Conv_output_0").SqnrDb, Is.EqualTo(200), measured);
        Assert.That(errors.Where(e => e.Tensor != "/c1/Conv_output_0").Select(e => e.SqnrDb), Is.All.InRange(10.0, 199.0), "int8 noise is present but bounded: " + measured);
        ActivationQuantizationError logits = errors.Single(e => e.Tensor == "logits");
        Assert.That(logits.SqnrDb, Is.EqualTo(DirectOutputSqnr(original, quantized)).Within(0.01));
        Assert.That((logits.Producer, logits.Node), Is.EqualTo(("Gemm", original.Graph.Node.Single(n => n.Output.Contains("logits")).Name)), "the node to exclude, by name");
    }

    [Test]
    public void AFloat16ModelIsFedItsInputAsFloat16AndOnlyFloat32TensorsAreCompared()
    {
        ModelProto original = OnnxModelFile.Load(TestPaths.SharedModel("fashion-cnn"));
        ModelProto half = original.Clone();
        // Without keep_io_types the model's input becomes float16: the float32 calibration data must be converted for it.
        Float16Conversion.Run(half, new Float16ConversionOptions { KeepIoTypes = false });
        Assert.That(half.Graph.Input[0].Type.TensorType.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Float16));

        IReadOnlyList<ActivationQuantizationError> errors = ActivationSqnr.Measure(original, half, FashionData(original), Samples);

        Assert.That(errors, Is.Empty, "every tensor the two models share is float16 in one of them: nothing to compare, and no error");
    }

    [Test]
    public void StaticInt8ThenFloat16IsMeasuredOnTheTensorsThatStayFloat32()
    {
        // The float16 pass leaves the int8 chain's dequantized values float32 and makes the model's input float16:
        // a build of this spec ended in CMP9001 when the calibration data went in unconverted.
        string yaml = $"""
            version: 1
            models:
              - name: q
                source: {EvaluationWorkspace.SharedPath(TestPaths.SharedModel("digits-mlp"))}
                passes:
                  - quantize: {'{'} mode: static, calibration: {'{'} data: {EvaluationWorkspace.SharedPath(TestPaths.SharedData("digits_calib_x.npy"))} {'}'} {'}'}
                  - float16: {'{'} keep_io_types: false {'}'}
            """;
        using var workspace = new EvaluationWorkspace();

        PipelineResult result = workspace.Run(yaml);

        Assert.That(result.Succeeded, Is.True, string.Join("\n", result.Diagnostics));
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(workspace.Output, "q.report.json")));
        string[] measured = [.. report.RootElement.GetProperty("activation_sqnr").EnumerateArray().Select(e => e.GetProperty("node").GetString()!)];
        Assert.That(measured, Is.EquivalentTo(DigitsHiddenRelus), "the two hidden Relu outputs are float32 in both models");
        Assert.That(report.RootElement.GetProperty("activation_sqnr").EnumerateArray().Select(e => e.GetProperty("sqnr_db").GetDouble()), Is.All.InRange(20.0, 199.0));
    }

    /// <summary>The same measure on the graph output, computed independently from two plain ORT runs.</summary>
    private static double DirectOutputSqnr(ModelProto original, ModelProto quantized)
    {
        float[] x = Compress.Runtime.Data.NpyArray.Load(TestPaths.SharedData("fashion_calib_x.npy")).ToSingleArray()[..(Samples * 28 * 28)];
        using OrtValue input = OrtValue.CreateTensorValueFromMemory(x, [Samples, 1, 28, 28]);
        float[] Run(ModelProto model)
        {
            using var session = new InferenceSession(model.ToByteArray());
            using var outputs = session.Run(new RunOptions(), ["input"], [input], ["logits"]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }

        float[] expected = Run(original), actual = Run(quantized);
        double signal = expected.Sum(v => (double)v * v);
        double noise = expected.Zip(actual, (e, a) => (double)(e - a) * (e - a)).Sum();
        return Math.Round(10 * Math.Log10(signal / noise), 3);
    }
}
