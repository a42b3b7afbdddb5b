using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;
using Compress.Core.Spec;
using Compress.Core.Tests.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Pruning;

/// <summary>
/// A model really over protobuf's 2 GB limit, through the pipeline as a build runs it: no lowered limit. The source
/// (two 1.1 GB MatMul weights and a 4 MB Gemm weight) lives in external data; the spec prunes the Gemm weight to
/// 90 % zeros, asks for <c>storage: sparse</c> and evaluates the result against the source on one sample. The output
/// must keep the big weights byte for byte, store the Gemm weight as a sparse initializer whose values and positions
/// sit in the data file too, and run in ONNX Runtime; the evaluation must run both models, which do not fit in one
/// protobuf message for ONNX Runtime either.
/// </summary>
/// <remarks>
/// About 7 GB of memory, 7 GB of temporary disk and 75 s, most of it the kernel mapping fresh pages while 2.2 GB models
/// are written and read (source, output, the evaluation's sessions). Worth it: the 64-bit size paths it guards
/// (protobuf's own sizes are 32-bit) are otherwise only reached with lowered limits, and this test found three bugs
/// they hid: dense 1 GB weights were "stored sparse" through an overflowed size, <c>source_bytes</c> left out the
/// source's data file, and evaluation failed with an internal error because it handed ONNX Runtime the model as one
/// protobuf message (see <c>OrtModelSession</c>).
/// </remarks>
[NonParallelizable]
public class SparseStorageOverTwoGigabytesTests
{
    private const int Features = 16384;
    private const int Hidden = 17000;   // 16384 x 17000 floats = 1.11 GB per big weight, 2.23 GB together
    private const int Outputs = 64;

    [Test]
    public void PrunedSparseModelOverTheRealLimitKeepsEveryTensorExternalAndRunsInOrt()
    {
        using var folder = new TempFolder();
        ModelProto source = BigModel();
        Assert.That(source.Graph.Initializer.Sum(t => (long)t.RawData.Length), Is.GreaterThan(OnnxSaveOptions.ProtobufLimitBytes), "really over 2 GB");
        string sourcePath = folder.File("big.onnx");
        OnnxModelFile.Save(source, sourcePath);
        Assert.That(folder.FileList(), Is.EqualTo("big.onnx,big.onnx.data"), "the source itself needs external data");
        float[] x = Passes.TinyModels.RandomValues(Features, seed: 7);
        Calibration.NpyTestFiles.WriteFloats(folder.File("x.npy"), [1, Features], x);
        float[] sourceHead = MemoryMarshal.Cast<byte, float>(source.Graph.Initializer.Single(t => t.Name == "w_head").RawData.Span).ToArray();
        File.WriteAllText(
            folder.File("compress.yaml"),
            "version: 1\nmodels:\n  - name: pruned\n    source: big.onnx\n    storage: sparse\n    passes:\n" +
            "      - prune: { method: magnitude, sparsity: 0.9, nodes_to_exclude: [big_*] }\n" +
            "    evaluate: { data: x.npy, min_cosine: 0.5 }\n");
        SpecLoadResult loaded = SpecLoader.Load(folder.File("compress.yaml"));
        Assert.That(loaded.Diagnostics, Is.Empty, () => string.Join('\n', loaded.Diagnostics));

        PipelineResult result = new CompressPipeline(new SilentPipelineLog()).Run(loaded.Spec!, folder.File("out"));

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        ModelReport report = result.Models.Single();
        string output = report.Output;
        Assert.Multiple(() =>
        {
            Assert.That(report.SparseStorage!.Initializers, Is.EqualTo(1), "only the pruned Gemm weight: the dense ones cannot shrink");
            Assert.That(new FileInfo(output + ".data").Length, Is.GreaterThan(OnnxSaveOptions.ProtobufLimitBytes));
            Assert.That(new FileInfo(output).Length, Is.LessThan(64 * 1024), "every weight left the model file");
            Assert.That(report.SourceBytes, Is.EqualTo(new FileInfo(sourcePath).Length + new FileInfo(sourcePath + ".data").Length), "source_bytes counts the source's data file");
            Assert.That(report.SizeRatio, Is.InRange(0.99, 1.0), "the big weights stay, the head shrinks");
            Assert.That(report.Parameters, Is.EqualTo((2L * Features * Hidden) + (Outputs * Hidden)));
        });

        ModelProto references = OnnxModelFile.Load(output, new OnnxLoadOptions { LoadExternalData = false });
        SparseTensorProto stored = references.Graph.SparseInitializer.Single();
        Assert.That(TensorData.IsExternal(stored.Values) && TensorData.IsExternal(stored.Indices), Is.True, "values and positions in the data file");
        Assert.That(references.Graph.Initializer.Where(t => t.Name.StartsWith("w_big", StringComparison.Ordinal)).All(TensorData.IsExternal), Is.True, "both big weights in the data file");

        ModelProto written = OnnxModelFile.Load(output);
        TensorProto[] big = [.. source.Graph.Initializer.Where(t => t.Name.StartsWith("w_big", StringComparison.Ordinal)).Select(t => written.Graph.Initializer.Single(w => w.Name == t.Name))];
        foreach (TensorProto weight in big)
        {
            Assert.That(weight.RawData.Span.SequenceEqual(source.Graph.Initializer.Single(t => t.Name == weight.Name).RawData.Span), Is.True, $"{weight.Name} byte for byte");
        }

        source = null!;
        TensorProto head = SparseInitializerStorage.ToDense(written.Graph.SparseInitializer.Single());
        float[] headWeights = MemoryMarshal.Cast<byte, float>(head.RawData.Span).ToArray();
        Assert.That(headWeights.Count(w => w == 0f), Is.EqualTo((int)(0.9 * Hidden * Outputs)), "exactly 90 % zeros");

        double[] hidden = HiddenActivations(x, big);
        float[] expected = Head(hidden, headWeights);
        double cosine = TensorPrimitives.CosineSimilarity(expected, Head(hidden, sourceHead));
        Assert.That(report.Evaluation!.After.Cosine, Is.EqualTo(cosine).Within(1e-4), "the evaluation ran both 2.2 GB models in ONNX Runtime");
        written = null!;
        big = null!;
        GC.Collect();
        float[] actual = RunInOrt(output, x);
        float tolerance = 1e-4f * Math.Abs(TensorPrimitives.MaxMagnitude(expected));
        Assert.That(actual, Is.EqualTo(expected).Within(tolerance), "ONNX Runtime reads every tensor back from the data file");
    }

    /// <summary>y = (x·A + x·B)·Hᵀ: A and B are [16384, 17000], H is [64, 17000] (Gemm, transB).</summary>
    private static ModelProto BigModel()
    {
        var graph = new GraphProto { Name = "big" };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = Passes.TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Features) });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = Passes.TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Outputs) });
        graph.Initializer.Add(Weight("w_big_a", [Features, Hidden], seed: 1, scale: 0.01f));
        graph.Initializer.Add(Weight("w_big_b", [Features, Hidden], seed: 2, scale: 0.01f));
        graph.Initializer.Add(Weight("w_head", [Outputs, Hidden], seed: 3, scale: 0.1f));
        graph.Node.Add(Node("MatMul", "big_a", ["x", "w_big_a"], "a"));
        graph.Node.Add(Node("MatMul", "big_b", ["x", "w_big_b"], "b"));
        graph.Node.Add(Node("Add", "sum", ["a", "b"], "h"));
        NodeProto gemm = Node("Gemm", "head", ["h", "w_head"], "y");
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(gemm);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        return node;
    }

    /// <summary>A float tensor whose bytes are wrapped, not copied: the two big weights would otherwise exist twice.</summary>
    private static TensorProto Weight(string name, long[] dims, uint seed, float scale)
    {
        var bytes = new byte[checked(dims.Aggregate(1L, (a, b) => a * b) * sizeof(float))];
        Fill(MemoryMarshal.Cast<byte, float>(bytes.AsSpan()), seed, scale);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = UnsafeByteOperations.UnsafeWrap(bytes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    /// <summary>
    /// Uniform in [-scale, scale) from a 32-bit xorshift, written in place: deterministic, fast enough for 280 M values,
    /// and no float[] to copy into the tensor's bytes (TinyModels.RandomValues would need one).
    /// </summary>
    private static void Fill(Span<float> values, uint seed, float scale)
    {
        uint state = 2463534242u ^ (seed * 0x9E3779B9u);
        for (int i = 0; i < values.Length; i++)
        {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            values[i] = ((state >> 8) * (1f / (1 << 24)) * 2f - 1f) * scale;
        }
    }

    /// <summary>x·A + x·B in double precision from the written big weights.</summary>
    private static double[] HiddenActivations(float[] x, TensorProto[] big)
    {
        var h = new double[Hidden];
        foreach (TensorProto weight in big)
        {
            ReadOnlySpan<float> w = MemoryMarshal.Cast<byte, float>(weight.RawData.Span);
            for (int k = 0; k < Features; k++)
            {
                ReadOnlySpan<float> row = w.Slice(k * Hidden, Hidden);
                for (int n = 0; n < Hidden; n++)
                {
                    h[n] += (double)x[k] * row[n];
                }
            }
        }

        return h;
    }

    /// <summary>h·Hᵀ, rounded to float at the end.</summary>
    private static float[] Head(double[] h, float[] head)
    {
        var y = new float[Outputs];
        for (int o = 0; o < Outputs; o++)
        {
            double sum = 0;
            for (int n = 0; n < Hidden; n++)
            {
                sum += h[n] * head[(o * Hidden) + n];
            }

            y[o] = (float)sum;
        }

        return y;
    }

    private static float[] RunInOrt(string path, float[] x)
    {
        using var options = new SessionOptions();
        options.AddSessionConfigEntry("session.disable_prepacking", "1");   // no packed second copy of 2.2 GB of weights
        using var session = new InferenceSession(path, options);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [1, Features]);
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(new RunOptions(), ["x"], [input], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
