using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Tests.Passes;

/// <summary>Float16 conversion of the shared real models (../shared), run in ONNX Runtime CPU.</summary>
public class Float16ConversionSharedModelTests
{
    [TestCase("digits-mlp", "digits_test_x.npy", false)]
    [TestCase("digits-mlp", "digits_test_x.npy", true)]
    [TestCase("fashion-cnn", "fashion_test_x.npy", false)]
    [TestCase("fashion-cnn", "fashion_test_x.npy", true)]
    public void ModelsHalveRunAndAgreeWithFloat(string name, string xFile, bool keepIoTypes)
    {
        long floatBytes = new FileInfo(SharedMaterial.ModelPath(name)).Length;
        ModelProto model = SharedMaterial.LoadModel(name);
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath(xFile));
        int[] floatTop1 = WeightOnlyAndFloat16Evaluation.Top1(model, x);

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepIoTypes = keepIoTypes });

        long halfBytes = model.ToByteArray().LongLength;
        double ratio = halfBytes / (double)floatBytes;
        Assert.That(report.SkippedNodes, Is.Empty);
        Assert.That(model.Graph.Initializer.Select(t => (TensorProto.Types.DataType)t.DataType), Is.All.EqualTo(TensorProto.Types.DataType.Float16));
        TensorProto.Types.DataType io = keepIoTypes ? TensorProto.Types.DataType.Float : TensorProto.Types.DataType.Float16;
        Assert.That(model.Graph.Input.Concat(model.Graph.Output).Select(v => (TensorProto.Types.DataType)v.Type.TensorType.ElemType), Is.All.EqualTo(io));
        using (InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null))
        {
            TensorElementType expected = keepIoTypes ? TensorElementType.Float : TensorElementType.Float16;
            Assert.That(session.InputMetadata.Values.Concat(session.OutputMetadata.Values).Select(m => m.ElementDataType), Is.All.EqualTo(expected));
        }

        int[] halfTop1 = WeightOnlyAndFloat16Evaluation.Top1(model, x);
        double agreement = WeightOnlyAndFloat16Evaluation.Agreement(halfTop1, floatTop1);
        TestContext.Out.WriteLine($"{name} fp16 keep_io_types={keepIoTypes}: {halfBytes}/{floatBytes} bytes = {ratio:P2}, top-1 agreement {agreement:P2}; {string.Join("; ", report.Notes)}");
        Assert.That(ratio, Is.LessThanOrEqualTo(0.55));
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.995));
    }

    [Test]
    public void OcrClsWithConstantWeightsAtOpset9ConvertsAndRuns()
    {
        long floatBytes = new FileInfo(SharedMaterial.ModelPath("ocr-cls")).Length;
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath("cls_test_x.npy"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("cls_test_y.npy")).ToInt64Array();
        int floatConstants = model.Graph.Node.Count(n => n.OpType == "Constant" && n.Attribute.Single().T.DataType == (int)TensorProto.Types.DataType.Float);

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepIoTypes = true });

        Assert.That(report.WeightsQuantized, Is.EqualTo(floatConstants), "every float Constant converted");
        Assert.That(report.SkippedNodes, Is.Empty);
        Assert.That(
            model.Graph.Node.Where(n => n.OpType == "Constant").Select(n => (TensorProto.Types.DataType)n.Attribute.Single().T.DataType),
            Has.None.EqualTo(TensorProto.Types.DataType.Float));
        long halfBytes = model.ToByteArray().LongLength;
        double accuracy = WeightOnlyAndFloat16Evaluation.Accuracy(WeightOnlyAndFloat16Evaluation.Top1(model, x, batch: 50), labels);
        TestContext.Out.WriteLine($"ocr-cls fp16: {halfBytes}/{floatBytes} bytes = {halfBytes / (double)floatBytes:P2}, accuracy {accuracy:F4}; {string.Join("; ", report.Notes)}");
        Assert.That(halfBytes, Is.LessThanOrEqualTo(floatBytes * 0.55));
        Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.98));
    }

    [Test]
    public void OcrDetResizeAndOverflowingBatchNormStayFloat32AndMaskMatches()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-det");
        NpyArray pages = NpyArray.Load(SharedMaterial.DataPath("det_test_x.npy"));
        float[] page = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(pages.SampleBytes(0, 1)).ToArray();
        bool[] floatMask = TextMask(model, page);
        int resizes = model.Graph.Node.Count(n => n.OpType == "Resize");

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepIoTypes = true });

        // Six Resize (op_block_list) and the BatchNormalization whose variances reach 9.8e7 stay float32.
        Assert.That(report.SkippedNodes.Count(s => s.OpType == "Resize" && s.Reason == "op type in op_block_list: kept in float32"), Is.EqualTo(resizes));
        Assert.That(
            report.SkippedNodes.Where(s => s.OpType != "Resize").Select(s => s.Reason),
            Is.EqualTo(new List<string> { "constant 'batch_norm_0.w_2' has values beyond ±65504: kept in float32" }));
        bool[] halfMask = TextMask(model, page);
        int intersection = floatMask.Zip(halfMask).Count(p => p.First && p.Second);
        int union = floatMask.Zip(halfMask).Count(p => p.First || p.Second);
        double iou = intersection / (double)union;
        TestContext.Out.WriteLine($"ocr-det fp16 text-mask IoU vs fp32 {iou:F4}; {string.Join("; ", report.Notes)}");
        Assert.That(iou, Is.GreaterThanOrEqualTo(0.98));
    }

    [Test]
    public void SileroIfBranchesWithOuterScopeWeightsConvertAndRun()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        NpzArchive data = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        const int steps = 64;
        float[] floatP = VadProbabilities(model, data, steps);

        PassReport report = Float16Conversion.Run(model, new Float16ConversionOptions { KeepIoTypes = true });

        // One Mul per branch scales by a constant beyond float16 (kept float32, with casts around it).
        Assert.That(report.SkippedNodes.Select(s => (s.OpType, s.Graph)), Is.EquivalentTo(new List<(string, string)>
        {
            ("Mul", "torch_jit/If_25.then_branch"),
            ("Mul", "torch_jit/If_25.else_branch"),
        }));
        Assert.That(report.SkippedNodes.Select(s => s.Reason), Has.All.Match("^constant '[0-9]+' has values beyond ±65504: kept in float32$"));
        Assert.That(model.Graph.Initializer.Select(t => (TensorProto.Types.DataType)t.DataType), Has.None.EqualTo(TensorProto.Types.DataType.Float));
        float[] halfP = VadProbabilities(model, data, steps);
        double maxDifference = floatP.Zip(halfP).Max(p => Math.Abs(p.First - p.Second));
        int sameDecision = floatP.Zip(halfP).Count(p => p.First >= 0.5f == p.Second >= 0.5f);
        TestContext.Out.WriteLine($"silero fp16: max |Δp| {maxDifference:F4}, same decision {sameDecision}/{steps}; {string.Join("; ", report.Notes)}");
        Assert.That(sameDecision, Is.GreaterThanOrEqualTo(steps - 1));
        Assert.That(maxDifference, Is.LessThanOrEqualTo(0.05));
    }

    private static bool[] TextMask(ModelProto model, float[] page)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        float[] map = OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { ["x"] = (page, [1, 3, 640, 640]) }, "sigmoid_0.tmp_0");
        return map.Select(p => p > 0.3f).ToArray();
    }

    private static float[] VadProbabilities(ModelProto model, NpzArchive data, int steps)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        var result = new float[steps];
        for (int i = 0; i < steps; i++)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(Floats(data["input"], i), [1, 1536]);
            using var sr = OrtValue.CreateTensorValueFromMemory(new long[] { 16000 }, []);
            using var h = OrtValue.CreateTensorValueFromMemory(Floats(data["h"], i), [2, 1, 64]);
            using var c = OrtValue.CreateTensorValueFromMemory(Floats(data["c"], i), [2, 1, 64]);
            using var runOptions = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions, ["input", "sr", "h", "c"], [input, sr, h, c], ["output"]);
            result[i] = WeightOnlyAndFloat16Evaluation.ReadFloats(outputs[0])[0];
        }

        return result;
    }

    private static float[] Floats(NpyArray array, long sample) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(array.SampleBytes(sample, 1)).ToArray();
}
