using Compress.Runtime.Data;

namespace Compress.Runtime.Tests;

public class SileroVadTests
{
    private const int Hidden = 64;
    private const int Layers = 2;

    [Test]
    public void FrameAccuracyMatchesTheBaselineThroughTheGeneralApi()
    {
        using CompressedModel model = CompressedModel.Load(SharedMaterial.Model("silero-vad-v4.onnx"));
        NpzArchive data = NpzArchive.Load(SharedMaterial.Data("vad_test.npz"));
        long[] labels = NpyArray.Load(SharedMaterial.Data("vad_test_y.npy")).ToInt64Array();
        int steps = checked((int)data["input"].SampleCount);
        int samples = checked((int)data["input"].Shape[1]);

        // h and c are declared [2,batch,64] and stored [N,2,64]: a batch stacks the rows on axis 1.
        IReadOnlyList<ModelOutput> outputs = model.Run(
        [
            ModelInput.Create("input", data["input"].AsSpan<float>().ToArray(), steps, samples),
            ModelInput.Scalar("sr", data["sr"].AsSpan<long>()[0]),
            ModelInput.Create("h", BatchOnAxis1(data["h"]), Layers, steps, Hidden),
            ModelInput.Create("c", BatchOnAxis1(data["c"]), Layers, steps, Hidden),
        ]);

        Assert.That(outputs.Select(o => o.ToString()), Is.EqualTo(new[]
        {
            $"output: Float32[{steps},1]", $"hn: Float32[2,{steps},64]", $"cn: Float32[2,{steps},64]",
        }));
        ReadOnlySpan<float> probabilities = outputs[0].AsSpan<float>();
        int correct = 0;
        for (int i = 0; i < steps; i++)
        {
            correct += (probabilities[i] >= 0.5f ? 1 : 0) == labels[i] ? 1 : 0;
        }

        // README fp32 baseline: frame accuracy 0.9740 on 1,000 steps; allow one step either way for kernel differences.
        Assert.That(steps, Is.EqualTo(1000));
        Assert.That(correct / (double)steps, Is.EqualTo(0.974).Within(0.0015));
    }

    [Test]
    public void DescribesTheScalarAndTheBatchAxisOnAxis1()
    {
        using CompressedModel model = CompressedModel.Load(SharedMaterial.Model("silero-vad-v4.onnx"));

        Assert.That(model.Inputs.Select(i => i.ToString()), Is.EqualTo(new[]
        {
            "input: Float32[batch,sequence]", "sr: Int64[]", "h: Float32[2,batch,64]", "c: Float32[2,batch,64]",
        }));
        Assert.That(model.Inputs[1].Rank, Is.Zero);
    }

    [Test]
    public void MissingInputIsNamed()
    {
        using CompressedModel model = CompressedModel.Load(SharedMaterial.Model("silero-vad-v4.onnx"));

        var e = Assert.Throws<CompressedModelException>(() => model.Run(
        [
            ModelInput.Create("input", new float[1536], 1, 1536),
            ModelInput.Create("h", new float[128], 2, 1, 64),
            ModelInput.Create("c", new float[128], 2, 1, 64),
        ]));

        Assert.That(e!.Message, Does.Contain("needs input(s) sr: Int64[] too"));
    }

    [Test]
    public void SingleInputConvenienceIsRefusedForAMultiInputModel()
    {
        using CompressedModel model = CompressedModel.Load(SharedMaterial.Model("silero-vad-v4.onnx"));

        var e = Assert.Throws<CompressedModelException>(() => model.Run(new float[1536], [1, 1536]));

        Assert.That(e!.Message, Does.Contain("does not have one float input").And.Contain("sr: Int64[]"));
    }

    /// <summary>[N,2,64] -> [2,N,64].</summary>
    private static float[] BatchOnAxis1(NpyArray state)
    {
        ReadOnlySpan<float> source = state.AsSpan<float>();
        int steps = checked((int)state.SampleCount);
        var result = new float[source.Length];
        for (int n = 0; n < steps; n++)
        {
            for (int layer = 0; layer < Layers; layer++)
            {
                source.Slice(((n * Layers) + layer) * Hidden, Hidden).CopyTo(result.AsSpan(((layer * steps) + n) * Hidden, Hidden));
            }
        }

        return result;
    }
}
