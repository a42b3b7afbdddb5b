using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Passes;

/// <summary>Static int8 QDQ quantization of the shared real models, ranges from MinMax on their calibration sets.</summary>
public class StaticQuantizationSharedModelTests
{
    private static readonly string[] FashionFloatConv = ["/c1/Conv"];

    [TestCase("digits-mlp", "digits_calib_x.npy", "digits_test_x.npy", "digits_test_y.npy", new long[] { 64 }, 3, false)]
    [TestCase("digits-mlp", "digits_calib_x.npy", "digits_test_x.npy", "digits_test_y.npy", new long[] { 64 }, 3, true)]
    // fashion-cnn's first Conv reads 1 channel and stays float (IntegerConvKernels): 3 of its 4 weighted layers are int8.
    [TestCase("fashion-cnn", "fashion_calib_x.npy", "fashion_test_x.npy", "fashion_test_y.npy", new long[] { 1, 28, 28 }, 3, true)]
    public void SmallModelsKeepAccuracyAndFuse(string name, string calibFile, string xFile, string yFile, long[] sampleShape, int weighted, bool perChannel)
    {
        (ModelProto model, string input, float[] x, long[] labels, int[] floatTop1, Dictionary<string, TensorRange> ranges) = Prepare(name, calibFile, xFile, yFile, sampleShape);

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = perChannel });

        Assert.That(report.SkippedNodes.Where(s => s.OpType is "Conv" or "Gemm" or "MatMul").Select(s => s.Node), Is.EqualTo(name == "fashion-cnn" ? FashionFloatConv : []));
        Assert.That(report.WeightsQuantized, Is.EqualTo(weighted));
        int[] quantTop1 = Top1(model, input, x, sampleShape);
        double agreement = Agreement(floatTop1, quantTop1);
        double floatAccuracy = Accuracy(floatTop1, labels);
        double quantAccuracy = Accuracy(quantTop1, labels);
        TestContext.Out.WriteLine($"{name} static per_channel={perChannel}: accuracy fp32 {floatAccuracy:F4} int8 {quantAccuracy:F4}, agreement {agreement:P2}, {model.CalculateSize()} bytes");
        Assert.That(quantAccuracy, Is.GreaterThanOrEqualTo(floatAccuracy - 0.005));
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.99));
        StaticFusion.AssertAllFused(model, weighted, floatLayers: name == "fashion-cnn" ? FashionFloatConv.Length : 0);
    }

    [Test]
    public void OcrClsIsUpgradedFromOpset9QuantizedAndFused()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        long[] sampleShape = [3, 48, 192];
        float[] calibration = NpyArray.Load(SharedMaterial.DataPath("cls_calib_x.npy")).ToSingleArray();
        float[] x = NpyArray.Load(SharedMaterial.DataPath("cls_test_x.npy")).ToSingleArray();
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("cls_test_y.npy")).ToInt64Array();
        int[] floatTop1 = Top1(model, "x", x, sampleShape);
        GraphCleanup.Run(model, new GraphCleanupOptions { FuseHardSwish = false }); // what a build does before static quantization (PassRunner)
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, StaticMinMaxCalibration.Batches("x", calibration, sampleShape, 16));

        // uint8 activations: with int8 ones ORT 1.31's x86 int8→uint8 activation rewrite misses 7 of
        // the 53 Conv inputs (residual Add / BatchNormalization outputs) and those Conv stay float.
        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true, ActivationType = QuantType.QUInt8 });

        Assert.That(model.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(13));
        Assert.That(report.Notes, Has.Some.StartsWith("upgraded ai.onnx opset 9 -> 13: ").And.Some.Contains("18 Clip: min/max attributes -> inputs"));
        // 8 of its depthwise Conv have 8/24/40/88/104/200 channels: ORT's x86 int8 depthwise kernel needs a multiple
        // of 16, so the Convs producing those channels get zero channels up to 16/32/48/96/112/208 and all run in int8.
        Assert.That(report.Notes.Count(n => n.Contains("run ONNX Runtime's int8 depthwise kernel", StringComparison.Ordinal)), Is.EqualTo(8));
        Assert.That(report.SkippedNodes.Count(s => s.OpType == "Conv" && s.Reason.StartsWith("depthwise Conv with ", StringComparison.Ordinal)), Is.Zero);
        long[] depthwiseGroups = [.. model.Graph.Node.Where(n => n.OpType == "Conv").Select(n => ModelGraph.GetInt(n, "group", 1)).Where(g => g > 1)];
        TestContext.Out.WriteLine("depthwise channels: " + string.Join(", ", depthwiseGroups));
        Assert.That(depthwiseGroups, Has.Length.EqualTo(11).And.All.Matches<long>(g => g % 16 == 0));
        Assert.That(report.WeightsQuantized, Is.GreaterThanOrEqualTo(46), "45 Conv + 1 MatMul weights, plus constant operands of Add/Mul");
        Assert.That(model.Graph.Node.Count(n => n.OpType == "Constant"), Is.LessThan(250 - 54 + 40), "float weights in Constant nodes removed");
        int[] quantTop1 = Top1(model, "x", x, sampleShape);
        double agreement = Agreement(floatTop1, quantTop1);
        double accuracy = Accuracy(quantTop1, labels);
        TestContext.Out.WriteLine($"ocr-cls static int8: accuracy {accuracy:F4} (fp32 {Accuracy(floatTop1, labels):F4}), agreement {agreement:P2}, {report.NodesQuantized} nodes; skipped {report.SkippedNodes.Count}: {string.Join("; ", report.SkippedNodes.Take(5))}");
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.985));
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.99));
        // Every quantized Conv/MatMul fuses, and the Convs left in float stay float: they read float tensors, so ORT's
        // WeightBiasQuantization does not quantize them again.
        Dictionary<string, int> ops = StaticFusion.OptimizedOpCounts(model);
        string summary = string.Join(", ", ops.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        int floatConvs = report.SkippedNodes.Count(s => s.OpType == "Conv");
        TestContext.Out.WriteLine("float Convs: " + string.Join("; ", report.SkippedNodes.Where(s => s.OpType == "Conv").Select(s => $"{s.Node}: {s.Reason}")));
        Assert.That(ops.GetValueOrDefault("Conv") + ops.GetValueOrDefault("FusedConv"), Is.EqualTo(floatConvs), summary);
        Assert.That(ops.GetValueOrDefault("QLinearConv"), Is.EqualTo(53 - floatConvs), summary);
        Assert.That(ops.GetValueOrDefault("QLinearMatMul"), Is.EqualTo(1), summary);
    }

    // PyTorch writes alpha, beta and transB on every Gemm; QGemm has no beta, and ORT refused the whole model until the
    // converter stopped copying it.
    [TestCase("digits-mlp", "digits_calib_x.npy", "digits_test_x.npy", "digits_test_y.npy", new long[] { 64 }, 3, false)]
    [TestCase("fashion-cnn", "fashion_calib_x.npy", "fashion_test_x.npy", "fashion_test_y.npy", new long[] { 1, 28, 28 }, 2, true)]
    public void QOperatorFormatOfSmallModelsRunsWithQGemm(string name, string calibFile, string xFile, string yFile, long[] sampleShape, int gemms, bool perChannel)
    {
        (ModelProto model, string input, float[] x, long[] labels, int[] floatTop1, Dictionary<string, TensorRange> ranges) = Prepare(name, calibFile, xFile, yFile, sampleShape);

        StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { QuantFormat = StaticQuantFormat.QOperator, PerChannel = perChannel });

        NodeProto[] qgemms = [.. model.Graph.Node.Where(n => n.OpType == "QGemm")];
        Assert.That(qgemms, Has.Length.EqualTo(gemms));
        Assert.That(qgemms.SelectMany(n => n.Attribute).Select(a => a.Name), Has.None.EqualTo("beta"));
        int[] quantTop1 = Top1(model, input, x, sampleShape);
        Assert.That(Accuracy(quantTop1, labels), Is.GreaterThanOrEqualTo(Accuracy(floatTop1, labels) - 0.005));
        Assert.That(Agreement(floatTop1, quantTop1), Is.GreaterThanOrEqualTo(0.99));
    }

    /// <summary>A small shared model, its test samples and labels, its fp32 top-1 and MinMax ranges on its calibration set.</summary>
    private static (ModelProto Model, string Input, float[] X, long[] Labels, int[] FloatTop1, Dictionary<string, TensorRange> Ranges) Prepare(
        string name, string calibFile, string xFile, string yFile, long[] sampleShape)
    {
        ModelProto model = SharedMaterial.LoadModel(name);
        string input = model.Graph.Input[0].Name;
        float[] calibration = NpyArray.Load(SharedMaterial.DataPath(calibFile)).ToSingleArray();
        float[] x = NpyArray.Load(SharedMaterial.DataPath(xFile)).ToSingleArray();
        long[] labels = NpyArray.Load(SharedMaterial.DataPath(yFile)).ToInt64Array();
        int[] floatTop1 = Top1(model, input, x, sampleShape);
        return (model, input, x, labels, floatTop1, StaticMinMaxCalibration.Calibrate(model, StaticMinMaxCalibration.Batches(input, calibration, sampleShape, 64)));
    }

    internal static int[] Top1(ModelProto model, string input, float[] x, long[] sampleShape)
    {
        long sampleSize = sampleShape.Aggregate(1L, (a, b) => a * b);
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        var result = new List<int>();
        foreach (IReadOnlyDictionary<string, (float[] Data, long[] Shape)> batch in StaticMinMaxCalibration.Batches(input, x, sampleShape, 50))
        {
            float[] output = OrtRunner.Run(session, batch, session.OutputNames[0]);
            result.AddRange(OrtRunner.ArgMax(output, (int)(output.Length / batch[input].Shape[0])));
        }

        Assert.That(result, Has.Count.EqualTo(x.Length / sampleSize));
        return result.ToArray();
    }

    private static double Agreement(int[] a, int[] b) => a.Zip(b).Count(p => p.First == p.Second) / (double)a.Length;

    private static double Accuracy(int[] top1, long[] labels) => top1.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
}
