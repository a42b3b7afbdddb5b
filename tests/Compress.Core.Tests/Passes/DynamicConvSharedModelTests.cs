// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Passes;

/// <summary>Dynamic Conv quantization of the shared fashion-cnn (../shared).</summary>
public class DynamicConvSharedModelTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void FashionCnnWithConvAgreesWithFloat(bool perChannel)
    {
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath("fashion_test_x.npy"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("fashion_test_y.npy")).ToInt64Array();
        int[] floatTop1 = SharedModelRunner.Top1(model, x);
        long[] convOutputs = model.Graph.Node.Where(n => n.OpType == "Conv").Select(n => model.Graph.Initializer.Single(t => t.Name == n.Input[1]).Dims[0]).ToArray();

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { OpTypesToQuantize = ["Conv", "MatMul", "Gemm"], PerChannel = perChannel });

        Assert.That(report.NodesQuantized, Is.EqualTo(4), "2 Conv + 2 Gemm");
        Assert.That(report.SkippedNodes, Is.Empty);
        List<NodeProto> convIntegers = model.Graph.Node.Where(n => n.OpType == "ConvInteger").ToList();
        Assert.That(convIntegers, Has.Count.EqualTo(2));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.None.EqualTo("Conv"));
        var graph = new ModelGraph(model);
        for (int i = 0; i < convIntegers.Count; i++)
        {
            TensorProto weight = graph.Main.FindConstant(convIntegers[i].Input[1])!.Value!;
            NodeProto scalesMul = graph.Main.Consumers(graph.Main.Producer(convIntegers[i].Input[0])!.Output[1]).Single(n => n.OpType == "Mul");
            TensorProto scale = graph.Main.FindConstant(scalesMul.Input[1])!.Value!;
            Assert.That(weight.DataType, Is.EqualTo((int)TensorProto.Types.DataType.Uint8));
            Assert.That(weight.Dims[0], Is.EqualTo(convOutputs[i]));
            Assert.That(TensorData.ElementCount(scale), Is.EqualTo(perChannel ? convOutputs[i] : 1), $"scale dims {DynamicConvModels.Describe(scale.Dims)}");
            Assert.That(scale.Dims, Is.EqualTo(perChannel ? new long[] { 1, convOutputs[i], 1, 1 } : []));
        }

        int[] quantTop1 = SharedModelRunner.Top1(model, x);
        double agreement = quantTop1.Zip(floatTop1).Count(p => p.First == p.Second) / (double)floatTop1.Length;
        double floatAccuracy = SharedModelRunner.Accuracy(floatTop1, labels);
        double quantAccuracy = SharedModelRunner.Accuracy(quantTop1, labels);
        TestContext.Out.WriteLine($"fashion-cnn Conv+Gemm per_channel={perChannel}: agreement {agreement:P2}, accuracy fp32 {floatAccuracy:F4} int8 {quantAccuracy:F4}");
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.99));
        Assert.That(Math.Abs(quantAccuracy - floatAccuracy), Is.LessThanOrEqualTo(0.005));
        List<string> optimized = new ModelGraph(OrtRunner.OptimizedGraph(model)).AllNodes().Select(n => n.Node.OpType).ToList();
        Assert.That(optimized.Count(o => o == "ConvInteger"), Is.EqualTo(2), "ORT keeps ConvInteger (no fused dynamic Conv kernel)");
        Assert.That(optimized, Has.None.AnyOf("Conv", "FusedConv", "Gemm", "FusedGemm"));
    }
}
