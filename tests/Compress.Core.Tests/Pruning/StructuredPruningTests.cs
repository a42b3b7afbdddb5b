using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>Structured pruning of the shared models: consistent shapes (ORT runs them), parameter counts, skipped layers.</summary>
public class StructuredPruningTests
{
    // Layers of the shared models as documented in ../shared/README.md: outputs, input channels and the
    // elements each input channel contributes per output (kernel 3x3 = 9; Flatten of 32 x 7 x 7 = 49).
    private static readonly (int Outputs, int Inputs, int Block)[] DigitsLayers = [(256, 64, 1), (128, 256, 1), (10, 128, 1)];
    private static readonly (int Outputs, int Inputs, int Block)[] FashionLayers = [(16, 1, 9), (32, 16, 9), (128, 32, 49), (10, 128, 1)];

    [TestCase("digits-mlp", 3)]
    [TestCase("fashion-cnn", 4)]
    public void QuarterOfTheOutputsGoAndTheModelStillRuns(string name, int layers)
    {
        ModelProto model = SharedMaterial.LoadModel(name);
        long before = PruningMaterial.Parameters(model);

        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.25, ChannelMultiple = 1 });

        (int Outputs, int Inputs, int Block)[] chain = name == "digits-mlp" ? DigitsLayers : FashionLayers;
        Assert.That(chain, Has.Length.EqualTo(layers));
        long expectedRemoved = ChainParameters(chain, 0) - ChainParameters(chain, 0.25);
        Assert.That(before - PruningMaterial.Parameters(model), Is.EqualTo(expectedRemoved), "parameters removed");
        Assert.That(report.Count("parameters_removed"), Is.EqualTo(expectedRemoved));
        Assert.That(report.Count("layers_pruned"), Is.EqualTo(layers - 1));
        Assert.That(report.SkippedNodes.Single().Reason, Does.Contain("graph output"), "the logits layer keeps its 10 outputs");

        // ORT loads and runs the smaller model; the output shape is unchanged.
        double accuracy = PruningMaterial.Accuracy(model, name);
        TestContext.Out.WriteLine($"{name}: {before} -> {PruningMaterial.Parameters(model)} parameters, accuracy after structured 25% alone {accuracy:F4}");
        Assert.That(accuracy, Is.GreaterThan(0.3), "still a classifier, not noise");
    }

    [Test]
    public void DefaultKeepsMultiplesOfSixteenOutputs()
    {
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        long before = PruningMaterial.Parameters(model);

        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.25 });

        // c1 16 -> 12 rounds back to 16 (skipped); c2 32 -> 24 is a tie between 16 and 32, taken toward 16; f1 128 -> 96.
        string[] shrunk = [.. report.Notes.Where(n => n.Contains(" outputs, ", StringComparison.Ordinal)).Select(n => n[..n.IndexOf(" outputs, ", StringComparison.Ordinal)])];
        string[] expected = ["/c2/Conv (Conv): 32 -> 16", "/f1/Gemm (Gemm): 128 -> 96"];
        Assert.That(shrunk, Is.EqualTo(expected));
        Assert.That(report.SkippedNodes.Single(n => n.Node == "/c1/Conv").Reason, Does.Contain("multiples of 16"));
        (int Outputs, int Inputs, int Block)[] pruned = [(16, 1, 9), (16, 16, 9), (96, 16, 49), (10, 96, 1)];
        Assert.That(PruningMaterial.Parameters(model), Is.EqualTo(ChainParameters(pruned, 0)));
        Assert.That(before - PruningMaterial.Parameters(model), Is.EqualTo(report.Count("parameters_removed")));
        Assert.That(PruningMaterial.Accuracy(model, "fashion-cnn"), Is.GreaterThan(0.3), "ORT runs the pruned model");
    }

    [TestCase(16, 0.25, 16, 16)]
    [TestCase(32, 0.25, 16, 16)]
    [TestCase(128, 0.25, 16, 96)]
    [TestCase(100, 0.25, 16, 80)]
    [TestCase(20, 0.25, 16, 16)]
    [TestCase(8, 0.5, 16, 8)]
    [TestCase(12, 0.25, 1, 9)]
    [TestCase(48, 0.25, 8, 32)]
    [TestCase(64, 0.25, 8, 48)]
    public void KeptOutputsRoundToTheNearestMultipleTiesTowardFewer(int outputs, double ratio, int multiple, int kept) =>
        Assert.That(new StructuredPruningOptions { Ratio = ratio, ChannelMultiple = multiple }.KeptOutputs(outputs), Is.EqualTo(kept));

    [Test]
    public void ResidualAddIsSkippedWithTheReason()
    {
        ModelProto model = PruningModels.ResidualGemms();

        // Layers of 4 outputs: exact counts, so only the residual stops fc1.
        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.5, ChannelMultiple = 1 });

        Assert.That(report.Count("layers_pruned"), Is.EqualTo(0));
        Assert.That(string.Join(",", report.SkippedNodes.Select(s => s.Node)), Is.EqualTo("fc1,fc2"));
        Assert.That(report.SkippedNodes[0].Reason, Does.Contain("residual"));
        Assert.That(report.SkippedNodes[1].Reason, Does.Contain("graph output"));
    }

    [Test]
    public void ChannelsFlowThroughResizeAndConcatIntoTheReaderAtTheirOffset()
    {
        ModelProto original = PruningModels.ResizedConcat();
        ModelProto model = original.Clone();

        // 8 → 6 and 4 → 3 outputs: convA's channels sit at offset 4 of convC's 12 inputs, then at 3 of 9.
        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.25, ChannelMultiple = 1 });

        ReconstructionTeacher teacher = ReconstructionTeacher.Of(model)!;
        int[] keptA = [.. teacher.KeptOutputs("convA")!];
        int[] keptB = [.. teacher.KeptOutputs("convB")!];
        var graph = new ModelGraph(model);
        Assert.Multiple(() =>
        {
            Assert.That(report.Count("layers_pruned"), Is.EqualTo(2), string.Join("\n", report.SkippedNodes.Select(s => $"{s.Node}: {s.Reason}")));
            Assert.That(keptA, Has.Length.EqualTo(6));
            Assert.That(keptB, Has.Length.EqualTo(3));
            Assert.That(graph.Main.FindConstant("wc")!.Dims, Is.EqualTo(new long[] { 3, 9, 3, 3 }));
            Assert.That(report.Notes, Has.Some.Contains("through a Concat into convC (channels 4.. of 12)"));
        });

        // convC keeps exactly the columns of the surviving channels, in order: convB's first, then convA's after offset 4.
        float[] before = TensorData.ReadFloats(original.Graph.Initializer.Single(t => t.Name == "wc"));
        float[] after = TensorData.ReadFloats(graph.Main.FindConstant("wc")!.Value!);
        int[] columns = [.. keptB, .. keptA.Select(k => 4 + k)];
        for (int o = 0; o < 3; o++)
        {
            for (int c = 0; c < columns.Length; c++)
            {
                Assert.That(after.AsSpan(((o * 9) + c) * 9, 9).ToArray(), Is.EqualTo(before.AsSpan(((o * 12) + columns[c]) * 9, 9).ToArray()), $"output {o}, column {c}");
            }
        }

        // The pruned model computes what the original computes with the removed channels silenced (weights and bias 0).
        ModelProto silenced = original.Clone();
        Silence(silenced, "wa", "ba", keptA, 8, 2);
        Silence(silenced, "wb", "bb", keptB, 4, 2);
        float[] x = TinyModels.RandomValues(2 * 6 * 6, 56);
        float[] expected = OrtRunner.Run(silenced, "x", x, [1, 2, 6, 6]);
        float[] actual = OrtRunner.Run(model, "x", x, [1, 2, 6, 6]);
        Assert.That(actual.Zip(expected).Max(p => Math.Abs(p.First - p.Second)), Is.LessThan(1e-5f));
    }

    private static void Silence(ModelProto model, string weight, string bias, int[] kept, int outputs, int inputs)
    {
        TensorProto w = model.Graph.Initializer.Single(t => t.Name == weight);
        TensorProto b = model.Graph.Initializer.Single(t => t.Name == bias);
        float[] wv = TensorData.ReadFloats(w);
        float[] bv = TensorData.ReadFloats(b);
        foreach (int o in Enumerable.Range(0, outputs).Except(kept))
        {
            Array.Clear(wv, o * inputs, inputs);
            bv[o] = 0;
        }

        model.Graph.Initializer.Remove(w);
        model.Graph.Initializer.Remove(b);
        model.Graph.Initializer.Add(TensorData.CreateFloat(weight, [outputs, inputs, 1, 1], wv));
        model.Graph.Initializer.Add(TensorData.CreateFloat(bias, [outputs], bv));
    }

    /// <summary>Weights and biases of a chain where every layer but the last loses floor(ratio × outputs).</summary>
    private static long ChainParameters((int Outputs, int Inputs, int Block)[] chain, double ratio)
    {
        long total = 0;
        int inputs = chain[0].Inputs;
        for (int i = 0; i < chain.Length; i++)
        {
            int outputs = i == chain.Length - 1 ? chain[i].Outputs : chain[i].Outputs - (int)Math.Floor(ratio * chain[i].Outputs);
            total += ((long)outputs * inputs * chain[i].Block) + outputs;
            inputs = outputs;
        }

        return total;
    }
}
