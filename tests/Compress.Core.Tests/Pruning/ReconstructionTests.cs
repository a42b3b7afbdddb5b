using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Pruning;

/// <summary>Least-squares reconstruction after pruning, with the original model as teacher, on the shared models.</summary>
public class ReconstructionTests
{
    private const int Samples = 256;

    [TestCase("digits-mlp")]
    [TestCase("fashion-cnn")]
    public void UnstructuredHalfThenReconstructionLowersEveryLayerErrorAndKeepsAccuracy(string name)
    {
        ModelProto original = SharedMaterial.LoadModel(name);
        ModelProto pruned = original.Clone();
        MagnitudePruning.Run(pruned, new MagnitudePruningOptions { Sparsity = 0.5 });
        ModelProto reconstructed = pruned.Clone();
        var teacher = new ReconstructionTeacher(original);

        ReconstructionResult result = Reconstruction.Reconstruct(reconstructed, teacher, PruningMaterial.Calibration(reconstructed, name, Samples), new ReconstructionOptions());

        // Measured here through ORT, not taken from the pass: every layer output against the original's.
        List<(NodeProto Node, TensorProto Weight)> layers = PruningMaterial.Weights(original, "Gemm", "Conv");
        Assert.That(result.Layers.Select(l => l.Node), Is.EqualTo(layers.Select(l => l.Node.Name)));
        string calib = $"{PruningMaterial.DataPrefix(name)}_calib_x.npy";
        foreach ((NodeProto node, TensorProto _) in layers)
        {
            string output = node.Output[0];
            float[] reference = PruningMaterial.Tensor(original, output, calib, Samples);
            double prunedError = PruningMaterial.RelativeError(PruningMaterial.Tensor(pruned, output, calib, Samples), reference);
            double refitError = PruningMaterial.RelativeError(PruningMaterial.Tensor(reconstructed, output, calib, Samples), reference);
            TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {node.Name}: output error pruned {prunedError:G4}, reconstructed {refitError:G4}"));
            Assert.That(refitError, Is.LessThan(prunedError), node.Name);
        }

        // Sparsity is kept exactly: reconstruction solves on each row's support.
        foreach ((NodeProto node, TensorProto weight) in PruningMaterial.Weights(reconstructed, "Gemm", "Conv"))
        {
            float[] refit = TensorData.ReadFloats(weight);
            float[] mask = PruningMaterial.Initializer(pruned, weight.Name);
            Assert.That(Enumerable.Range(0, refit.Length).Count(i => (refit[i] == 0) != (mask[i] == 0)), Is.Zero, $"{node.Name}: same zeros");
        }

        double fp32 = PruningMaterial.Accuracy(original, name);
        double magnitudeOnly = PruningMaterial.Accuracy(pruned, name);
        double refitAccuracy = PruningMaterial.Accuracy(reconstructed, name);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} 50% unstructured: top-1 fp32 {fp32:F4}, magnitude only {magnitudeOnly:F4}, + reconstruction {refitAccuracy:F4}"));
        Assert.That(refitAccuracy, Is.GreaterThanOrEqualTo(fp32 - 0.01), "loses at most 1 point of top-1");
    }

    [TestCase("digits-mlp", 1)]
    [TestCase("fashion-cnn", 1)]
    [TestCase("digits-mlp", 16)]
    [TestCase("fashion-cnn", 16)]
    public void StructuredQuarterThenReconstructionKeepsAccuracy(string name, int channelMultiple)
    {
        ModelProto original = SharedMaterial.LoadModel(name);
        ModelProto model = original.Clone();
        StructuredPruning.Run(model, new StructuredPruningOptions { Ratio = 0.25, ChannelMultiple = channelMultiple });
        double structuredOnly = PruningMaterial.Accuracy(model, name);
        ReconstructionTeacher teacher = ReconstructionTeacher.Of(model)!;
        Assert.That(teacher, Is.Not.Null, "the pruning pass remembered the original");

        ReconstructionResult result = Reconstruction.Reconstruct(model, teacher, PruningMaterial.Calibration(model, name, Samples), new ReconstructionOptions());

        string calib = $"{PruningMaterial.DataPrefix(name)}_calib_x.npy";
        string logits = original.Graph.Output[0].Name;
        double before = result.Layers[^1].ErrorBefore;
        double after = PruningMaterial.RelativeError(PruningMaterial.Tensor(model, logits, calib, Samples), PruningMaterial.Tensor(original, logits, calib, Samples));
        double fp32 = PruningMaterial.Accuracy(original, name);
        double refit = PruningMaterial.Accuracy(model, name);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} structured 25% (multiple {channelMultiple}): top-1 fp32 {fp32:F4}, structured only {structuredOnly:F4}, + reconstruction {refit:F4}; logits error {before:G4} -> {after:G4}; layers {string.Join(", ", result.Layers.Select(l => $"{l.Node} {l.ErrorBefore:G3}->{l.ErrorAfter:G3}"))}"));
        Assert.That(after, Is.LessThan(before), "logits closer to the original's after reconstruction");
        Assert.That(refit, Is.GreaterThanOrEqualTo(fp32 - 0.02), "loses at most 2 points of top-1");
    }
}
