// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Passes;

/// <summary>Dynamic quantization of LSTM into com.microsoft DynamicQuantizeLSTM.</summary>
public class DynamicLstmTests
{
    private const int InputSize = 12, Hidden = 8, Steps = 5, Batch = 3;

    [TestCase("forward", false)]
    [TestCase("forward", true)]
    [TestCase("bidirectional", false)]
    [TestCase("bidirectional", true)]
    public void LstmBecomesDynamicQuantizeLstmWithOrtLayouts(string direction, bool perChannel)
    {
        int d = direction == "bidirectional" ? 2 : 1;
        ModelProto model = DynamicConvModels.Lstm(InputSize, Hidden, direction);
        float[] w = TensorData.ReadFloats(model.Graph.Initializer.Single(t => t.Name == "W"));
        var inputs = new Dictionary<string, (float[], long[])>
        {
            ["X"] = (TinyModels.RandomValues(Steps * Batch * InputSize, 31, 1.5f), [Steps, Batch, InputSize]),
            ["h0"] = (TinyModels.RandomValues(d * Batch * Hidden, 32, 0.5f), [d, Batch, Hidden]),
            ["c0"] = (TinyModels.RandomValues(d * Batch * Hidden, 33, 0.5f), [d, Batch, Hidden]),
        };
        float[][] expected = DynamicConvModels.Run(model, inputs, "Y", "Y_h");

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { OpTypesToQuantize = ["LSTM"], PerChannel = perChannel });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.WeightsQuantized, Is.EqualTo(2), "W and R");
        NodeProto node = model.Graph.Node.Single();
        Assert.That((node.OpType, node.Domain), Is.EqualTo(("DynamicQuantizeLSTM", "com.microsoft")));
        Assert.That(node.Input, Has.Count.EqualTo(12));
        Assert.That(node.Attribute.Select(a => a.Name), Is.EquivalentTo(new[] { "hidden_size", "direction" }), "layout dropped");
        Assert.That(model.OpsetImport.Any(o => o.Domain == "com.microsoft"), Is.True);
        TensorProto wq = Initializer(model, node.Input[1]);
        TensorProto rq = Initializer(model, node.Input[2]);
        TensorProto wScale = Initializer(model, node.Input[8]);
        TensorProto wZeroPoint = Initializer(model, node.Input[9]);
        long[] parameterDims = perChannel ? [d, 4 * Hidden] : [d];
        Assert.That(wq.DataType, Is.EqualTo((int)TensorProto.Types.DataType.Int8));
        Assert.That(wq.Dims, Is.EqualTo(new long[] { d, InputSize, 4 * Hidden }));
        Assert.That(rq.Dims, Is.EqualTo(new long[] { d, Hidden, 4 * Hidden }));
        Assert.That(wScale.Dims, Is.EqualTo(parameterDims));
        Assert.That(Initializer(model, node.Input[11]).Dims, Is.EqualTo(parameterDims));
        Assert.That(TensorData.ReadInt32s(wZeroPoint), Is.All.Zero);

        // The stored layout is W transposed per direction: dequantized W_q[d,k,g] is within half a step of W[d,g,k].
        int[] q = TensorData.ReadInt32s(wq);
        float[] scales = TensorData.ReadFloats(wScale);
        for (int dir = 0; dir < d; dir++)
        {
            for (int g = 0; g < 4 * Hidden; g++)
            {
                float step = perChannel ? scales[(dir * 4 * Hidden) + g] : scales[dir];
                for (int k = 0; k < InputSize; k++)
                {
                    float original = w[(dir * 4 * Hidden * InputSize) + (g * InputSize) + k];
                    float dequantized = q[(dir * InputSize * 4 * Hidden) + (k * 4 * Hidden) + g] * step;
                    Assert.That(dequantized, Is.EqualTo(original).Within((step / 2) + 1e-6f), $"W[{dir},{g},{k}]");
                }
            }
        }

        float[][] actual = DynamicConvModels.Run(model, inputs, "Y", "Y_h");
        for (int o = 0; o < 2; o++)
        {
            double error = DynamicQuantizationTests.RelativeL2(actual[o], expected[o]);
            TestContext.Out.WriteLine($"{direction} per_channel={perChannel} output {o}: relative L2 {error:G3}");
            Assert.That(error, Is.GreaterThan(0).And.LessThan(0.02));
        }
    }

    [Test]
    public void BatchFirstLayoutAndGruAreSkippedWithReasons()
    {
        ModelProto lstm = DynamicConvModels.Lstm(InputSize, Hidden, "forward");
        lstm.Graph.Node[0].Attribute.Single(a => a.Name == "layout").I = 1;

        PassReport report = DynamicQuantization.Run(lstm, new DynamicQuantizationOptions { OpTypesToQuantize = ["LSTM"] });
        ModelProto gru = DynamicConvModels.Lstm(InputSize, Hidden, "forward");
        gru.Graph.Node[0].OpType = "GRU";
        PassReport gruReport = DynamicQuantization.Run(gru, new DynamicQuantizationOptions { OpTypesToQuantize = ["GRU"] });

        Assert.That(report.SkippedNodes.Single().Reason, Is.EqualTo("LSTM with layout=1 (batch-first) has no DynamicQuantizeLSTM form"));
        Assert.That(gruReport.SkippedNodes.Single().Reason, Does.Contain("no DynamicQuantizeGRU"));
    }

    [Test]
    public void SileroNestedLstmsAreQuantizedAndKeepFrameAccuracy()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        NpzArchive data = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("vad_test_y.npy")).ToInt64Array();
        double floatAccuracy = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(model, data), labels);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { OpTypesToQuantize = ["LSTM"] });

        var graph = new ModelGraph(model);
        List<GraphNode> quantized = graph.AllNodes().Where(n => n.Node.OpType == "DynamicQuantizeLSTM").ToList();
        Assert.That(report.NodesQuantized, Is.EqualTo(8));
        Assert.That(report.SkippedNodes, Is.Empty);
        Assert.That(quantized, Has.Count.EqualTo(8));
        Assert.That(quantized.Select(n => n.Graph.Depth), Has.All.EqualTo(2), "inside the nested If subgraphs");
        Assert.That(graph.AllNodes().Count(n => n.Node.OpType == "LSTM"), Is.Zero);
        foreach (GraphNode n in quantized)
        {
            ConstantTensor w = n.Graph.FindConstant(n.Node.Input[1])!;
            Assert.That(w.Owner, Is.SameAs(n.Graph), "quantized weights live in the nested subgraph, like the float ones did");
            Assert.That(w.Dims, Is.EqualTo(new long[] { 1, 64, 256 }));
        }

        Assert.That(graph.Graphs.SelectMany(g => g.Graph.Initializer).Count(t => t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.SequenceEqual(new long[] { 1, 256, 64 })), Is.Zero, "float W/R removed");
        double quantAccuracy = SharedModelRunner.FrameAccuracy(SharedModelRunner.SileroProbabilities(model, data), labels);
        TestContext.Out.WriteLine($"silero LSTM dynamic int8: frame accuracy fp32 {floatAccuracy:F4} int8 {quantAccuracy:F4}");
        Assert.That(Math.Abs(quantAccuracy - floatAccuracy), Is.LessThanOrEqualTo(0.01));
    }

    private static TensorProto Initializer(ModelProto model, string name) => model.Graph.Initializer.Single(t => t.Name == name);
}
