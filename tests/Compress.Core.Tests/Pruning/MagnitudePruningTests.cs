using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>Unstructured magnitude pruning on the shared models: exact sparsity, untouched biases, patterns, exclusions.</summary>
public class MagnitudePruningTests
{
    [TestCase("digits-mlp", 0.5)]
    [TestCase("fashion-cnn", 0.5)]
    [TestCase("fashion-cnn", 0.8)]
    public void PerLayerSparsityIsExactAndBiasesAreUntouched(string name, double sparsity)
    {
        ModelProto original = SharedMaterial.LoadModel(name);
        ModelProto model = original.Clone();

        PassReport report = MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = sparsity });

        List<(NodeProto Node, TensorProto Weight)> weights = PruningMaterial.Weights(model, "Gemm", "Conv");
        Assert.That(report.Count("layers_pruned"), Is.EqualTo(weights.Count));
        foreach ((NodeProto node, TensorProto weight) in weights)
        {
            float[] before = PruningMaterial.Initializer(original, weight.Name);
            float[] after = TensorData.ReadFloats(weight);
            long expected = (long)Math.Round(sparsity * after.Length, MidpointRounding.AwayFromZero);
            Assert.That(after.LongCount(v => v == 0), Is.EqualTo(expected), $"{node.Name}: exactly round({sparsity} x {after.Length}) zeros");

            // The kept weights are the largest ones, unchanged.
            float smallestKept = after.Where(v => v != 0).Min(Math.Abs);
            float largestPruned = before.Where((v, i) => after[i] == 0).Max(Math.Abs);
            Assert.That(largestPruned, Is.LessThanOrEqualTo(smallestKept), node.Name);
            Assert.That(after.Where((v, i) => v != 0 && v != before[i]), Is.Empty, $"{node.Name}: kept weights unchanged");
            string bias = node.Input[2];
            Assert.That(model.Graph.Initializer.Single(t => t.Name == bias), Is.EqualTo(original.Graph.Initializer.Single(t => t.Name == bias)), $"{node.Name}: bias untouched");
        }
    }

    [Test]
    public void GlobalSparsityIsExactOverAllLayersTogether()
    {
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");

        MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.7, Scope = MagnitudePruningScope.Global });

        List<float[]> weights = [.. PruningMaterial.Weights(model, "Gemm", "Conv").Select(w => TensorData.ReadFloats(w.Weight))];
        long total = weights.Sum(w => (long)w.Length);
        long zeros = weights.Sum(w => w.LongCount(v => v == 0));
        Assert.That(zeros, Is.EqualTo((long)Math.Round(0.7 * total, MidpointRounding.AwayFromZero)));
        double[] perLayer = [.. weights.Select(w => w.Count(v => v == 0) / (double)w.Length)];
        TestContext.Out.WriteLine($"global 70%: per-layer sparsity {string.Join(", ", perLayer.Select(s => s.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.That(perLayer.Max() - perLayer.Min(), Is.GreaterThan(0.05), "one ranking over all layers gives layers different sparsities");
    }

    [Test]
    public void ThresholdZeroesExactlyTheWeightsAtOrBelowIt()
    {
        ModelProto original = SharedMaterial.LoadModel("digits-mlp");
        ModelProto model = original.Clone();

        PassReport report = MagnitudePruning.Run(model, new MagnitudePruningOptions { Threshold = 0.01 });

        long zeroed = 0;
        foreach ((NodeProto _, TensorProto weight) in PruningMaterial.Weights(model, "Gemm"))
        {
            float[] before = PruningMaterial.Initializer(original, weight.Name);
            float[] after = TensorData.ReadFloats(weight);
            for (int i = 0; i < after.Length; i++)
            {
                Assert.That(after[i], Is.EqualTo(Math.Abs(before[i]) <= 0.01f ? 0f : before[i]), $"{weight.Name}[{i}]");
            }

            zeroed += before.Count(v => Math.Abs(v) <= 0.01f);
        }

        Assert.That(zeroed, Is.GreaterThan(0));
        Assert.That(report.Count("parameters_zeroed"), Is.EqualTo(zeroed));
    }

    [Test]
    public void TwoOfFourPatternHoldsInEveryGroupAndSkipsLayersItDoesNotFit()
    {
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");

        PassReport report = MagnitudePruning.Run(model, new MagnitudePruningOptions { Pattern = new MagnitudePruningPattern(2, 4) });

        // conv1 has 1 x 3 x 3 = 9 inputs per output: not a multiple of 4.
        Assert.That(report.SkippedNodes.Single().OpType, Is.EqualTo("Conv"));
        foreach ((NodeProto node, TensorProto weight) in PruningMaterial.Weights(model, "Gemm", "Conv").Skip(1))
        {
            float[] w = TensorData.ReadFloats(weight);
            bool transposed = node.OpType == "Gemm" && ModelGraph.GetInt(node, "transB", 0) == 0;
            Assert.That(transposed, Is.False, "shared Gemms are transB = 1: rows are contiguous");
            int columns = (int)(w.Length / weight.Dims[0]);
            for (int row = 0; row < weight.Dims[0]; row++)
            {
                for (int g = 0; g < columns; g += 4)
                {
                    int nonZero = Enumerable.Range(0, 4).Count(j => w[(row * columns) + g + j] != 0);
                    Assert.That(nonZero, Is.EqualTo(2), $"{node.Name} row {row} group {g / 4}");
                }
            }
        }
    }

    [Test]
    public void ExcludedNodesAndOtherOpTypesKeepTheirWeights()
    {
        ModelProto original = SharedMaterial.LoadModel("fashion-cnn");
        ModelProto model = original.Clone();
        List<(NodeProto Node, TensorProto Weight)> gemms = PruningMaterial.Weights(original, "Gemm");

        PassReport report = MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.5, OpTypes = ["Gemm"], NodesToExclude = [gemms[1].Node.Name] });

        Assert.That(report.Count("layers_pruned"), Is.EqualTo(1));
        Assert.That(report.SkippedNodes.Single().Node, Is.EqualTo(gemms[1].Node.Name));
        foreach ((NodeProto node, TensorProto weight) in PruningMaterial.Weights(model, "Gemm", "Conv"))
        {
            bool pruned = node.Name == gemms[0].Node.Name;
            Assert.That(TensorData.ReadFloats(weight).Any(v => v == 0), Is.EqualTo(pruned), node.Name);
        }
    }

    [Test]
    public void WeightsInConstantNodesArePrunedAndNormalisationParametersAreNot()
    {
        ModelProto original = SharedMaterial.LoadModel("ocr-cls");
        ModelProto model = original.Clone();

        PassReport report = MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.5 });

        var graph = new ModelGraph(model);
        var originalGraph = new ModelGraph(original);
        int checkedWeights = 0;
        foreach (GraphNode node in graph.AllNodes().Where(n => n.Node.OpType is "Conv" or "MatMul"))
        {
            ConstantTensor weight = node.Graph.FindConstant(node.Node.Input[1])!;
            Assert.That(weight.Source, Is.EqualTo(ConstantSource.ConstantNode));
            float[] w = TensorData.ReadFloats(weight.Value!);
            Assert.That(w.LongCount(v => v == 0), Is.EqualTo((long)Math.Round(0.5 * w.Length, MidpointRounding.AwayFromZero)), node.Node.Name);
            checkedWeights++;
        }

        Assert.That(checkedWeights, Is.EqualTo(54), "53 Conv + 1 MatMul");
        Assert.That(report.Count("layers_pruned"), Is.EqualTo(54));
        foreach (GraphNode bn in graph.AllNodes().Where(n => n.Node.OpType == "BatchNormalization"))
        {
            for (int i = 1; i < 5; i++)
            {
                TensorProto now = bn.Graph.FindConstant(bn.Node.Input[i])!.Value!;
                TensorProto before = originalGraph.Main.FindConstant(bn.Node.Input[i])!.Value!;
                Assert.That(now, Is.EqualTo(before), $"{bn.Node.Name} input {i}");
            }
        }
    }

    [Test]
    public void WeightsUsedInsideSubgraphsArePruned()
    {
        ModelProto original = SharedMaterial.LoadModel("silero-vad-v4");
        ModelProto model = original.Clone();
        string[] stft = [.. new ModelGraph(model).AllNodes().Where(n => n.Node.OpType == "Conv" && n.Node.Input[1].Contains("forward_basis_buffer", StringComparison.Ordinal)).Select(n => n.Node.Name)];
        Assert.That(stft, Has.Length.EqualTo(2), "one STFT Conv per branch");

        PassReport report = MagnitudePruning.Run(model, new MagnitudePruningOptions { Sparsity = 0.5, NodesToExclude = stft });

        var graph = new ModelGraph(model);
        var originalGraph = new ModelGraph(original);
        List<GraphNode> convs = [.. graph.AllNodes().Where(n => n.Node.OpType == "Conv")];
        Assert.That(convs.All(c => c.Graph != graph.Main), Is.True, "Silero's Conv nodes live in If branches");
        foreach (GraphNode conv in convs)
        {
            float[] w = TensorData.ReadFloats(conv.Graph.FindConstant(conv.Node.Input[1])!.Value!);
            if (stft.Contains(conv.Node.Name))
            {
                Assert.That(w, Is.EqualTo(TensorData.ReadFloats(originalGraph.Main.FindConstant(conv.Node.Input[1])!.Value!)), $"{conv.Node.Name} excluded");
            }
            else
            {
                Assert.That(w.LongCount(v => v == 0), Is.EqualTo((long)Math.Round(0.5 * w.Length, MidpointRounding.AwayFromZero)), conv.Node.Name);
            }
        }

        Assert.That(report.SkippedNodes.Where(s => s.Reason.Contains("nodes_to_exclude", StringComparison.Ordinal)).Select(s => s.Node), Is.EquivalentTo(stft));
    }
}
