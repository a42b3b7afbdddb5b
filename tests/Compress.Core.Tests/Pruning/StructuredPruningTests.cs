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

        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.25 });

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
    public void ResidualAddIsSkippedWithTheReason()
    {
        ModelProto model = PruningModels.ResidualGemms();

        PassReport report = StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.5 });

        Assert.That(report.Count("layers_pruned"), Is.EqualTo(0));
        Assert.That(string.Join(",", report.SkippedNodes.Select(s => s.Node)), Is.EqualTo("fc1,fc2"));
        Assert.That(report.SkippedNodes[0].Reason, Does.Contain("residual"));
        Assert.That(report.SkippedNodes[1].Reason, Does.Contain("graph output"));
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
