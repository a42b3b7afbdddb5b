using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Passes;

/// <summary>Dynamic quantization of the shared real models (../shared).</summary>
public class DynamicQuantizationSharedModelTests
{
    [TestCase("digits-mlp", "digits_test_x.npy", "digits_test_y.npy", 3, false)]
    [TestCase("digits-mlp", "digits_test_x.npy", "digits_test_y.npy", 3, true)]
    [TestCase("fashion-cnn", "fashion_test_x.npy", "fashion_test_y.npy", 2, false)]
    [TestCase("fashion-cnn", "fashion_test_x.npy", "fashion_test_y.npy", 2, true)]
    public void GemmModelsShrinkAgreeWithFloatAndFuse(string name, string xFile, string yFile, int gemms, bool perChannel)
    {
        long floatBytes = new FileInfo(SharedMaterial.ModelPath(name)).Length;
        ModelProto model = SharedMaterial.LoadModel(name);
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath(xFile));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath(yFile)).ToInt64Array();
        int[] floatTop1 = Top1(model, x);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { PerChannel = perChannel });

        Assert.That(report.NodesQuantized, Is.EqualTo(gemms));
        Assert.That(report.SkippedNodes, Is.Empty);
        long quantizedBytes = model.CalculateSize();
        Assert.That(quantizedBytes, Is.LessThanOrEqualTo(floatBytes * 0.30), $"{quantizedBytes} of {floatBytes} bytes");
        int[] quantTop1 = Top1(model, x);
        double agreement = quantTop1.Zip(floatTop1).Count(p => p.First == p.Second) / (double)floatTop1.Length;
        double floatAccuracy = Accuracy(floatTop1, labels);
        double quantAccuracy = Accuracy(quantTop1, labels);
        TestContext.Out.WriteLine($"{name} per_channel={perChannel}: {quantizedBytes}/{floatBytes} bytes, agreement {agreement:P2}, accuracy fp32 {floatAccuracy:F4} int8 {quantAccuracy:F4}");
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.99));
        DynamicQuantizationTests.AssertFusedToIntegerKernels(model, gemms);
    }

    [Test]
    public void OcrClsConstantNodeMatMulIsQuantizedAtOpset9()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath("cls_test_x.npy"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("cls_test_y.npy")).ToInt64Array();
        int constantsBefore = model.Graph.Node.Count(n => n.OpType == "Constant");

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.ParametersQuantized, Is.EqualTo(200 * 2));
        Assert.That(report.Notes, Has.Some.StartsWith("opset 9 < 11: used com.microsoft DynamicQuantizeMatMul"));
        Assert.That(model.Graph.Node.Count(n => n.OpType == "Constant"), Is.EqualTo(constantsBefore - 1), "the float Constant weight is removed");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Does.Contain("DynamicQuantizeMatMul").And.No.Contain("MatMul"));
        double accuracy = Accuracy(Top1(model, x), labels);
        TestContext.Out.WriteLine($"ocr-cls dynamic int8 accuracy {accuracy:F4}");
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.98));
        DynamicQuantizationTests.AssertFusedToIntegerKernels(model, 1);
    }

    [Test]
    public void OcrDetPassesThroughUnchangedAndRuns()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-det");
        byte[] before = model.ToByteArray();

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.Notes, Has.Some.StartsWith("no MatMul or Gemm node"));
        Assert.That(model.ToByteArray(), Is.EqualTo(before));
        NpyArray pages = NpyArray.Load(SharedMaterial.DataPath("det_test_x.npy"));
        float[] page = Slice(pages, 0, 1);
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        float[] map = OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { ["x"] = (page, [1, 3, 640, 640]) }, "sigmoid_0.tmp_0");
        Assert.That(map, Has.Length.EqualTo(640 * 640));
    }

    [Test]
    public void SileroPassesThroughWithReasonAndRuns()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        byte[] before = model.ToByteArray();

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.Notes, Has.Some.StartsWith("no MatMul or Gemm node in any of the"));
        Assert.That(model.ToByteArray(), Is.EqualTo(before));
        NpzArchive data = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        using var input = OrtValue.CreateTensorValueFromMemory(Slice(data["input"], 0, 1), [1, 1536]);
        using var sr = OrtValue.CreateTensorValueFromMemory(new long[] { 16000 }, []);
        using var h = OrtValue.CreateTensorValueFromMemory(Slice(data["h"], 0, 1), [2, 1, 64]);
        using var c = OrtValue.CreateTensorValueFromMemory(Slice(data["c"], 0, 1), [2, 1, 64]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input", "sr", "h", "c"], [input, sr, h, c], ["output"]);
        float probability = outputs[0].GetTensorDataAsSpan<float>()[0];
        Assert.That(probability, Is.InRange(0f, 1f));
    }

    private static int[] Top1(ModelProto model, NpyArray x)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        string input = session.InputNames[0];
        long rows = x.Shape[0];
        long[] sampleShape = x.Shape.Skip(1).ToArray();
        const int batch = 250;
        var result = new List<int>();
        for (long start = 0; start < rows; start += batch)
        {
            long count = Math.Min(batch, rows - start);
            float[] data = Slice(x, start, count);
            float[] logits = OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { [input] = (data, [count, .. sampleShape]) }, session.OutputNames[0]);
            result.AddRange(OrtRunner.ArgMax(logits, (int)(logits.Length / count)));
        }

        return [.. result];
    }

    private static float[] Slice(NpyArray array, long start, long count) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(array.SampleBytes(start, count)).ToArray();

    private static double Accuracy(int[] predicted, long[] labels) => predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
}
