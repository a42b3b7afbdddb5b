// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Runtime.Data;

namespace Compress.Core.Tests.Passes;

/// <summary>Graph clean-up of the shared real models (../shared).</summary>
public class GraphCleanupSharedModelTests
{
    [Test]
    public void OcrClsFoldsEveryBatchNormAndKeepsOutputs()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        NpyArray x = NpyArray.Load(SharedMaterial.DataPath("cls_test_x.npy"));
        long[] labels = NpyArray.Load(SharedMaterial.DataPath("cls_test_y.npy")).ToInt64Array();
        float[] expected = SharedModelRunner.Outputs(model, x, 16);
        double floatAccuracy = SharedModelRunner.Accuracy(SharedModelRunner.Top1(model, x), labels);

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions());

        TestContext.Out.WriteLine(report.ToString());
        Assert.That(report.Count(GraphCleanup.BatchNormFolded), Is.EqualTo(35));
        Assert.That(model.Graph.Node.Count(n => n.OpType == "BatchNormalization"), Is.Zero);
        Assert.That(model.Graph.Node.Count(n => n.OpType == "Conv"), Is.EqualTo(53));
        Assert.That(report.Count(GraphCleanup.NodesAfter), Is.LessThanOrEqualTo(report.Count(GraphCleanup.NodesBefore) - 35 - 35), "BN nodes and the Constant nodes of their parameters are gone");
        Assert.That(model.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "softmax_0.tmp_0" }));
        float[] actual = SharedModelRunner.Outputs(model, x, 16);
        double maxDifference = actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        TestContext.Out.WriteLine($"ocr-cls max |Δ| over 16 rows: {maxDifference:G3}");
        Assert.That(maxDifference, Is.LessThanOrEqualTo(1e-4));
        Assert.That(SharedModelRunner.Accuracy(SharedModelRunner.Top1(model, x), labels), Is.EqualTo(floatAccuracy));
    }

    [Test]
    public void OcrDetFoldsItsBatchNormsAndKeepsTheMap()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-det");
        NpyArray pages = NpyArray.Load(SharedMaterial.DataPath("det_test_x.npy"));
        float[] crop = Crop(SharedModelRunner.Slice(pages, 0, 1), 640, 96, 160, 224);
        float[] expected = RunDet(model, crop, 224);

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions());

        TestContext.Out.WriteLine(report.ToString());
        Assert.That(report.Count(GraphCleanup.BiasAddFolded), Is.EqualTo(2), "both ConvTranspose biases are separate Adds; the first hides a BN");
        Assert.That(report.Count(GraphCleanup.BatchNormFolded), Is.EqualTo(3));
        Assert.That(model.Graph.Node.Count(n => n.OpType == "BatchNormalization"), Is.Zero);
        Assert.That(report.Count(GraphCleanup.NodesAfter), Is.LessThan(report.Count(GraphCleanup.NodesBefore)));
        float[] actual = RunDet(model, crop, 224);
        double maxDifference = actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        TestContext.Out.WriteLine($"ocr-det 224x224 crop max |Δ|: {maxDifference:G3}");
        Assert.That(maxDifference, Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void SileroRunsIdenticallyAfterCleanup()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        NpzArchive data = NpzArchive.Load(SharedMaterial.DataPath("vad_test.npz"));
        float[] expected = SharedModelRunner.SileroProbabilities(model, data);
        int initializersBefore = new ModelGraph(model).Graphs.Sum(g => g.Graph.Initializer.Count);

        PassReport report = GraphCleanup.Run(model, new GraphCleanupOptions());

        TestContext.Out.WriteLine(report.ToString());
        var graph = new ModelGraph(model);
        Assert.That(graph.AllNodes().Count(n => n.Node.OpType == "Conv"), Is.EqualTo(36));
        Assert.That(graph.AllNodes().Count(n => n.Node.OpType == "LSTM"), Is.EqualTo(8));
        Assert.That(graph.Graphs.Sum(g => g.Graph.Initializer.Count), Is.LessThanOrEqualTo(initializersBefore));
        float[] actual = SharedModelRunner.SileroProbabilities(model, data);
        double maxDifference = actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
        TestContext.Out.WriteLine($"silero max |Δp| over 1000 steps: {maxDifference:G3}");
        Assert.That(maxDifference, Is.LessThanOrEqualTo(1e-5));
    }

    private static float[] RunDet(ModelProto model, float[] crop, int size) =>
        DynamicConvModels.Run(model, new Dictionary<string, (float[], long[])> { ["x"] = (crop, [1, 3, size, size]) }, "sigmoid_0.tmp_0")[0];

    /// <summary>A size×size crop at (top, left) of a [3, side, side] page.</summary>
    private static float[] Crop(float[] page, int side, int top, int left, int size)
    {
        var result = new float[3 * size * size];
        for (int ch = 0; ch < 3; ch++)
        {
            for (int r = 0; r < size; r++)
            {
                Array.Copy(page, (ch * side * side) + ((top + r) * side) + left, result, (ch * size * size) + (r * size), size);
            }
        }

        return result;
    }
}
