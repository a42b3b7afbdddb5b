// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using System.Text.Json;
using Compress.Core.Inspection;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Tests.Passes;

namespace Compress.Core.Tests.Inspection;

public class ModelInspectorTests
{
    [Test]
    public void DigitsMlpHistogramAndParameterCount()
    {
        ModelProto model = SharedMaterial.LoadModel("digits-mlp");
        long fileBytes = new FileInfo(SharedMaterial.ModelPath("digits-mlp")).Length;
        long expectedParameters = model.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));

        ModelInspection inspection = ModelInspector.Inspect(model, fileBytes);

        Assert.That(inspection.OpHistogram, Is.EquivalentTo(new Dictionary<string, int> { ["Gemm"] = 3, ["Relu"] = 2 }));
        Assert.That(inspection.ParameterCount, Is.EqualTo(expectedParameters));
        Assert.That(inspection.FileBytes, Is.EqualTo(fileBytes));
        Assert.That(inspection.Constants.Single().ElementType, Is.EqualTo("float32"));
        Assert.That(inspection.Constants.Single().Count, Is.EqualTo(6));
        Assert.That(inspection.Constants.Single().Bytes, Is.EqualTo(expectedParameters * 4));
        Assert.That(inspection.Inputs.Single(), Is.EqualTo(inspection.Inputs[0]));
        Assert.That(inspection.Inputs[0].Name, Is.EqualTo("input"));
        Assert.That(inspection.Inputs[0].Shape, Is.EqualTo(new[] { "batch", "64" }));
        Assert.That(inspection.OpsetImports, Is.EqualTo(new[] { new OpsetImport(string.Empty, 13) }));
    }

    [Test]
    public void OcrClsCountsConstantNodeParametersAndConvs()
    {
        ModelProto model = SharedMaterial.LoadModel("ocr-cls");
        long expectedParameters = model.Graph.Node
            .Where(n => n.OpType == "Constant")
            .Sum(n => n.Attribute.Single(a => a.Name == "value").T.Dims.Aggregate(1L, (a, d) => a * d));

        ModelInspection inspection = ModelInspector.Inspect(model, 1);

        Assert.That(model.Graph.Initializer, Is.Empty);
        Assert.That(inspection.OpHistogram["Conv"], Is.EqualTo(53));
        Assert.That(inspection.OpHistogram["Constant"], Is.EqualTo(250));
        Assert.That(inspection.OpHistogram["MatMul"], Is.EqualTo(1));
        Assert.That(inspection.ParameterCount, Is.EqualTo(expectedParameters).And.GreaterThan(100_000));
        Assert.That(inspection.Inputs.Single().Shape, Is.EqualTo(new[] { "p2o.DynamicDimension.0", "3", "p2o.DynamicDimension.1", "p2o.DynamicDimension.2" }));
    }

    [Test]
    public void SileroCountsSubgraphNodesAndNestedInitializers()
    {
        ModelProto model = SharedMaterial.LoadModel("silero-vad-v4");
        long mainOnly = model.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        (long allInitializers, int initializerCount) = CountInitializers(model.Graph);

        ModelInspection inspection = ModelInspector.Inspect(model, 1);

        Assert.That(inspection.OpHistogram["Conv"], Is.EqualTo(36));
        Assert.That(inspection.OpHistogram["LSTM"], Is.EqualTo(8));
        Assert.That(inspection.OpHistogram["If"], Is.EqualTo(9));
        Assert.That(model.Graph.Node, Has.Count.EqualTo(2), "only Equal and If at the top");
        Assert.That(initializerCount, Is.EqualTo(259));
        long constantNodeElements = inspection.ParameterCount - allInitializers;
        Assert.That(constantNodeElements, Is.GreaterThanOrEqualTo(0));
        Assert.That(inspection.ParameterCount, Is.GreaterThan(mainOnly), "nested subgraph initializers are counted");
        Assert.That(inspection.GraphCount, Is.EqualTo(1 + (9 * 2)));
        Assert.That(inspection.OpsetImports, Has.Count.EqualTo(9));
    }

    [Test]
    public void SparsityCountsExactZeros()
    {
        ModelProto model = TinyModels.MatMul();
        float[] w = TensorData.ReadFloats(model.Graph.Initializer[0]);
        int[] zeroAt = [0, 3, 17, 50, 51, 100, 239];
        foreach (int i in zeroAt)
        {
            w[i] = 0f;
        }

        w[1] = 1e-30f; // tiny but not zero
        model.Graph.Initializer[0] = TensorData.CreateFloat("W", [TinyModels.K, TinyModels.N], w);
        model.Graph.Initializer.Add(TensorData.CreateFloat("unused_bias", [4], [0f, 0f, 1f, 2f]));

        ModelInspection inspection = ModelInspector.Inspect(model, 1);

        Assert.That(inspection.Sparsity.FloatElements, Is.EqualTo(w.Length + 4));
        Assert.That(inspection.Sparsity.ZeroElements, Is.EqualTo(zeroAt.Length + 2));
        Assert.That(inspection.Sparsity.Sparsity, Is.EqualTo((zeroAt.Length + 2) / (double)(w.Length + 4)).Within(1e-12));
        TensorSparsity largest = inspection.Sparsity.LargestTensors[0];
        Assert.That(largest, Is.EqualTo(new TensorSparsity("W", "tiny", w.Length, zeroAt.Length, zeroAt.Length / (double)w.Length)));
        Assert.That(inspection.Sparsity.LargestTensors[1].Sparsity, Is.EqualTo(0.5));
    }

    [Test]
    public void NonDefaultDomainsAreQualifiedAndQuantizedTypesSummarised()
    {
        ModelProto model = TinyModels.Gemm(1f, 1f, true, [TinyModels.N], opset: 10);
        DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        ModelInspection inspection = ModelInspector.Inspect(model, 1);

        Assert.That(inspection.OpHistogram, Is.EquivalentTo(new Dictionary<string, int> { ["com.microsoft:DynamicQuantizeMatMul"] = 1 }));
        Assert.That(inspection.Constants.Select(c => c.ElementType), Is.EqualTo(new[] { "float32", "int8" }));
        ElementTypeSummary int8 = inspection.Constants.Single(c => c.ElementType == "int8");
        Assert.That(int8.Count, Is.EqualTo(1), "the weight (its zero point is the default 0, not written)");
        Assert.That(int8.Elements, Is.EqualTo(TinyModels.K * TinyModels.N));
        Assert.That(int8.Bytes, Is.EqualTo(int8.Elements));
    }

    [Test]
    public void JsonParsesBackWithSnakeCaseKeysAndSameValues()
    {
        ModelProto model = SharedMaterial.LoadModel("fashion-cnn");
        ModelInspection inspection = ModelInspector.Inspect(model, 829_049);

        string json = inspection.ToJson();
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;

        Assert.That(root.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[]
        {
            "file_bytes", "ir_version", "producer", "opset_imports", "inputs", "outputs", "graph_count", "node_count",
            "op_histogram", "parameter_count", "constants", "sparsity", "external_data_bytes",
        }));
        Assert.That(root.GetProperty("file_bytes").GetInt64(), Is.EqualTo(829_049));
        Assert.That(root.GetProperty("parameter_count").GetInt64(), Is.EqualTo(inspection.ParameterCount));
        Assert.That(root.GetProperty("op_histogram").GetProperty("Conv").GetInt32(), Is.EqualTo(2));
        Assert.That(root.GetProperty("op_histogram").EnumerateObject().Select(p => p.Name), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));
        Assert.That(root.GetProperty("inputs")[0].GetProperty("element_type").GetString(), Is.EqualTo("float32"));
        Assert.That(root.GetProperty("sparsity").GetProperty("largest_tensors")[0].GetProperty("name").GetString(), Is.EqualTo("f1.weight"));
        Assert.That(json, Is.EqualTo(ModelInspector.Inspect(SharedMaterial.LoadModel("fashion-cnn"), 829_049).ToJson()), "stable output");
    }

    [Test]
    public void TextRendererAlignsColumns()
    {
        ModelInspection inspection = ModelInspector.Inspect(SharedMaterial.LoadModel("digits-mlp"), 203_986);

        string text = inspection.ToText();
        TestContext.Out.WriteLine(text);
        string[] lines = text.Split('\n');

        Assert.That(text, Does.Contain("file size      203,986 bytes"));
        int gemm = Array.FindIndex(lines, l => l.TrimStart().StartsWith("Gemm ", StringComparison.Ordinal));
        int relu = Array.FindIndex(lines, l => l.TrimStart().StartsWith("Relu ", StringComparison.Ordinal));
        Assert.That(gemm, Is.GreaterThan(0));
        Assert.That(lines[gemm].TrimEnd(), Has.Length.EqualTo(lines[relu].TrimEnd().Length), "count column right-aligned");
        Assert.That(lines[gemm].TrimEnd(), Does.EndWith("3"));
    }

    private static (long Elements, int Count) CountInitializers(GraphProto graph)
    {
        long elements = graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        int count = graph.Initializer.Count;
        foreach (AttributeProto a in graph.Node.SelectMany(n => n.Attribute))
        {
            foreach (GraphProto g in a.Graphs.Append(a.G).OfType<GraphProto>())
            {
                (long e, int c) = CountInitializers(g);
                elements += e;
                count += c;
            }
        }

        return (elements, count);
    }
}
