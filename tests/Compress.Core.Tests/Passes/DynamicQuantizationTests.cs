// Inline expected arrays read best in assertions; these tests run once.
#pragma warning disable CA1861

using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

public class DynamicQuantizationTests
{
    private const int Rows = 5;
    private static readonly string[] IntegerKernels = ["DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulInteger"];
    private static readonly string[] SharedWeightReaders = ["mm1", "mm2"];
    private static readonly TensorProto.Types.DataType[] Int8WeightAndScale = [TensorProto.Types.DataType.Int8, TensorProto.Types.DataType.Float];

    private static float[] Input => TinyModels.RandomValues(Rows * TinyModels.K, 42, 3f);

    [Test]
    public void MatMulPerTensorInt8EmitsQuantizeDynamicPatternWithinBound()
    {
        ModelProto model = TinyModels.MatMul();
        float[] expected = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);
        float[] weight = TensorData.ReadFloats(model.Graph.Initializer[0]);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.ParametersQuantized, Is.EqualTo(TinyModels.K * TinyModels.N));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "DynamicQuantizeLinear", "MatMulInteger", "Cast", "Mul", "Mul" }));
        Assert.That(model.Graph.Initializer.Select(t => t.Name), Has.None.EqualTo("W"), "float weight removed");
        AssertWithinBound(model, expected, weight, TinyModels.K, TinyModels.N);
    }

    [TestCase(false, false, QuantType.QInt8)]
    [TestCase(true, false, QuantType.QInt8)]
    [TestCase(false, true, QuantType.QInt8)]
    [TestCase(true, true, QuantType.QInt8)]
    [TestCase(false, false, QuantType.QUInt8)]
    [TestCase(true, false, QuantType.QUInt8)]
    [TestCase(true, true, QuantType.QUInt8)]
    public void OptionsShapeScalesZeroPointsAndRanges(bool perChannel, bool reduceRange, QuantType type)
    {
        ModelProto model = TinyModels.MatMul();
        float[] expected = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);
        float[] weight = TensorData.ReadFloats(model.Graph.Initializer[0]);

        DynamicQuantization.Run(model, new DynamicQuantizationOptions { PerChannel = perChannel, ReduceRange = reduceRange, WeightType = type });

        (TensorProto w, TensorProto scale, TensorProto? zeroPoint) = QuantizedModelProbe.QuantizedWeights(model).Single();
        long[] expectedParamDims = perChannel ? [TinyModels.N] : [];
        Assert.That(scale.Dims, Is.EqualTo(expectedParamDims));
        Assert.That(scale.DataType, Is.EqualTo((int)TensorProto.Types.DataType.Float));
        var intType = type == QuantType.QInt8 ? TensorProto.Types.DataType.Int8 : TensorProto.Types.DataType.Uint8;
        Assert.That(w.DataType, Is.EqualTo((int)intType));
        Assert.That(w.Dims, Is.EqualTo(new long[] { TinyModels.K, TinyModels.N }));
        int[] q = TensorData.ReadInt32s(w);
        if (type == QuantType.QInt8)
        {
            Assert.That(zeroPoint, Is.Null, "int8 weights are symmetric: zero point 0 is the operators' default and is not written");
            Assert.That(q, Is.All.InRange(reduceRange ? -64 : -128, reduceRange ? 63 : 127));
        }
        else
        {
            Assert.That(zeroPoint, Is.Not.Null);
            Assert.That(zeroPoint!.Dims, Is.EqualTo(expectedParamDims));
            Assert.That(zeroPoint.DataType, Is.EqualTo((int)intType));
            Assert.That(q, Is.All.InRange(0, reduceRange ? 127 : 255));
        }

        if (reduceRange)
        {
            Assert.That(q.Max() - q.Min(), Is.GreaterThan(100), "7-bit range is used, not collapsed");
        }

        AssertWithinBound(model, expected, weight, TinyModels.K, TinyModels.N);
    }

    [TestCase(1f, 1f, false, new long[] { TinyModels.N })]
    [TestCase(1f, 1f, true, new long[] { TinyModels.N })]
    [TestCase(0.5f, 2f, true, new long[] { TinyModels.N })]
    [TestCase(-1.5f, 0.25f, false, new long[] { 1, TinyModels.N })]
    [TestCase(2f, 3f, true, new long[] { 1 })]
    [TestCase(1f, 1f, true, new long[] { Rows, TinyModels.N })]
    [TestCase(0.75f, 1f, true, null)]
    public void GemmVariantsMatchFloatWithinBoundAndFuse(float alpha, float beta, bool transB, long[]? biasDims)
    {
        ModelProto model = TinyModels.Gemm(alpha, beta, transB, biasDims);
        float[] expected = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);
        float[] b = TensorData.ReadFloats(model.Graph.Initializer[0]);
        float[] effective = new float[b.Length];
        for (int k = 0; k < TinyModels.K; k++)
        {
            for (int n = 0; n < TinyModels.N; n++)
            {
                effective[(k * TinyModels.N) + n] = alpha * (transB ? b[(n * TinyModels.K) + k] : b[(k * TinyModels.N) + n]);
            }
        }

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { PerChannel = transB });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Has.None.EqualTo("Gemm"));
        Assert.That(model.Graph.Initializer.Select(t => t.Name), Has.None.EqualTo("B"));
        AssertWithinBound(model, expected, effective, TinyModels.K, TinyModels.N);
        AssertFusedToIntegerKernels(model, report.NodesQuantized);
    }

    [Test]
    public void GemmWithComputedBiasAndBetaScalesBiasAtRunTime()
    {
        ModelProto model = TinyModels.Gemm(1f, 2f, true, [TinyModels.N]);
        TensorProto c = model.Graph.Initializer.Single(t => t.Name == "C");
        model.Graph.Initializer.Remove(c);
        model.Graph.Input.Add(new ValueInfoProto { Name = "C", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, TinyModels.N) });
        var inputs = new Dictionary<string, (float[], long[])> { ["X"] = (Input, [Rows, TinyModels.K]), ["C"] = (TensorData.ReadFloats(c), [TinyModels.N]) };
        float[] b = TensorData.ReadFloats(model.Graph.Initializer[0]);
        float[] expected = RunWith(model, inputs);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Does.Contain("Add").And.Contains("Mul"));
        float[] actual = RunWith(model, inputs);
        float[] scales = TensorData.ReadFloats(QuantizedModelProbe.QuantizedWeights(model).Single().Scale);
        float[] bound = QuantizedModelProbe.ErrorBound(Input, Rows, Transposed(b, TinyModels.N, TinyModels.K), TinyModels.K, TinyModels.N, scales);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(bound[i]), $"element {i}");
        }
    }

    [Test]
    public void GemmWithTransAIsSkippedWithReason()
    {
        ModelProto model = TinyModels.Gemm(1f, 1f, false, null);
        model.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "transA", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        byte[] before = model.ToByteArray();

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.SkippedNodes, Has.Count.EqualTo(1));
        Assert.That(report.SkippedNodes[0], Is.EqualTo(new SkippedNode("gemm", "Gemm", "tiny", "Gemm with transA=1")));
        Assert.That(model.ToByteArray(), Is.EqualTo(before), "a skipped model is left byte-identical");
    }

    [TestCase("keep*", true)]
    [TestCase("keep_m?", true)]
    [TestCase("*_me", true)]
    [TestCase("kee?", false)]
    [TestCase("other", false)]
    public void NodesToExcludeGlobsAreRespected(string pattern, bool excluded)
    {
        ModelProto model = TinyModels.MatMul(nodeName: "keep_me");

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { NodesToExclude = ["unrelated", pattern] });

        Assert.That(report.NodesQuantized, Is.EqualTo(excluded ? 0 : 1));
        Assert.That(model.Graph.Node.Any(n => n.OpType == "MatMul"), Is.EqualTo(excluded));
        if (excluded)
        {
            Assert.That(report.SkippedNodes.Single().Reason, Is.EqualTo($"excluded by nodes_to_exclude '{pattern}'"));
        }
    }

    [Test]
    public void OpTypesAndNodesToQuantizeSelectNodes()
    {
        PassReport onlyGemm = DynamicQuantization.Run(TinyModels.MatMul(), new DynamicQuantizationOptions { OpTypesToQuantize = ["Gemm"] });
        PassReport otherName = DynamicQuantization.Run(TinyModels.MatMul(), new DynamicQuantizationOptions { NodesToQuantize = ["other"] });
        PassReport listed = DynamicQuantization.Run(TinyModels.MatMul(), new DynamicQuantizationOptions { NodesToQuantize = ["mm"] });

        Assert.That(onlyGemm.SkippedNodes.Single().Reason, Is.EqualTo("op type not selected"));
        Assert.That(otherName.SkippedNodes.Single().Reason, Is.EqualTo("not listed in nodes_to_quantize"));
        Assert.That(listed.NodesQuantized, Is.EqualTo(1));
    }

    [Test]
    public void WeightThatIsAGraphInputIsNotAConstant()
    {
        ModelProto model = TinyModels.MatMul();
        model.Graph.Initializer.Clear();
        model.Graph.Input.Add(new ValueInfoProto { Name = "W", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, TinyModels.K, TinyModels.N) });

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.SkippedNodes.Single().Reason, Is.EqualTo("weight is not a constant"));
    }

    [Test]
    public void SharedWeightIsQuantizedOnceForBothMatMuls()
    {
        ModelProto model = TinyModels.SharedWeight();
        float[] expected = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.EqualTo(2));
        Assert.That(report.WeightsQuantized, Is.EqualTo(1));
        // One int8 weight and its scale (no zero point: symmetric), read by both MatMulIntegers.
        Assert.That(model.Graph.Initializer.Select(t => (TensorProto.Types.DataType)t.DataType), Is.EquivalentTo(Int8WeightAndScale));
        TensorProto weight = model.Graph.Initializer.Single(t => t.DataType == (int)TensorProto.Types.DataType.Int8);
        Assert.That(model.Graph.Node.Where(n => n.OpType == "MatMulInteger").Select(n => n.Input[1]), Is.EqualTo(new[] { weight.Name, weight.Name }));
        QuantizedWeightRecord record = report.QuantizedWeights.Single();
        Assert.That((record.IntegerTensor, record.Tensor, record.Elements), Is.EqualTo((weight.Name, "W", (long)(TinyModels.K * TinyModels.K))));
        Assert.That(record.Readers, Is.EqualTo(SharedWeightReaders), "both MatMuls read it: either one is the name to exclude");
        Assert.That(record.SqnrDb, Is.InRange(30.0, 60.0), "int8 of a uniform weight: about 6 dB per bit");
        float[] actual = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);
        // Two chained 8-bit products: a relative L2 error of a few percent at most (measured ~0.5 %).
        Assert.That(RelativeL2(actual, expected), Is.LessThan(0.03));
        AssertFusedToIntegerKernels(model, 2);
    }

    [Test]
    public void SharedWeightKeepsFloatCopyForExcludedConsumer()
    {
        ModelProto model = TinyModels.SharedWeight();
        float[] expected = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);
        float[] w = TensorData.ReadFloats(model.Graph.Initializer[0]);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { NodesToExclude = ["mm2"] });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        TensorProto floatW = model.Graph.Initializer.Single(t => t.Name == "W");
        Assert.That(TensorData.ReadFloats(floatW), Is.EqualTo(w), "the excluded MatMul still reads the untouched float weight");
        Assert.That(model.Graph.Node.Single(n => n.OpType == "MatMul").Input, Is.EqualTo(new[] { "Y1", "W" }));
        Assert.That(RelativeL2(OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]), expected), Is.LessThan(0.03));
    }

    [Test]
    public void MatMulsInsideIfBranchesAreQuantized()
    {
        ModelProto model = TinyModels.MatMulInIf();
        float[] x = Input;
        float[] thenExpected = RunIf(model, x, true);
        float[] elseExpected = RunIf(model, x, false);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.EqualTo(2));
        GraphProto thenBranch = model.Graph.Node[0].Attribute.Single(a => a.Name == "then_branch").G;
        GraphProto elseBranch = model.Graph.Node[0].Attribute.Single(a => a.Name == "else_branch").G;
        Assert.That(thenBranch.Node.Select(n => n.OpType), Does.Contain("MatMulInteger").And.No.Contain("MatMul"));
        Assert.That(elseBranch.Node.Select(n => n.OpType), Does.Contain("MatMulInteger").And.No.Contain("MatMul"));
        Assert.That(model.Graph.Initializer.Select(t => (TensorProto.Types.DataType)t.DataType), Is.EquivalentTo(Int8WeightAndScale), "outer weight quantized where it lives");
        Assert.That(elseBranch.Initializer.Select(t => (TensorProto.Types.DataType)t.DataType), Is.EquivalentTo(Int8WeightAndScale));
        Assert.That(thenBranch.Node.Single(n => n.OpType == "MatMulInteger").Input[1], Is.EqualTo(model.Graph.Initializer.Single(t => t.DataType == (int)TensorProto.Types.DataType.Int8).Name));
        Assert.That(elseBranch.Node.Single(n => n.OpType == "MatMulInteger").Input[1], Is.EqualTo(elseBranch.Initializer.Single(t => t.DataType == (int)TensorProto.Types.DataType.Int8).Name));
        Assert.That(RelativeL2(RunIf(model, x, true), thenExpected), Is.LessThan(0.02));
        Assert.That(RelativeL2(RunIf(model, x, false), elseExpected), Is.LessThan(0.02));
    }

    [Test]
    public void Opset10UsesContribDynamicQuantizeMatMul()
    {
        ModelProto model = TinyModels.Gemm(1f, 1f, true, [TinyModels.N], opset: 10);
        float[] expected = OrtRunner.Run(model, "X", Input, [Rows, TinyModels.K]);
        float[] b = TensorData.ReadFloats(model.Graph.Initializer[0]);

        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions());

        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[] { "DynamicQuantizeMatMul" }));
        Assert.That(model.Graph.Node[0].Domain, Is.EqualTo("com.microsoft"));
        Assert.That(model.OpsetImport.Any(o => o.Domain == "com.microsoft" && o.Version == 1), Is.True);
        Assert.That(report.Notes, Has.Some.StartsWith("opset 10 < 11: used com.microsoft DynamicQuantizeMatMul"));
        AssertWithinBound(model, expected, Transposed(b, TinyModels.N, TinyModels.K), TinyModels.K, TinyModels.N);
    }

    [Test]
    public void SameInputGivesByteIdenticalOutput()
    {
        ModelProto first = TinyModels.MatMulInIf();
        ModelProto second = TinyModels.MatMulInIf();
        var options = new DynamicQuantizationOptions { PerChannel = true };

        string firstReport = DynamicQuantization.Run(first, options).ToJson();
        string secondReport = DynamicQuantization.Run(second, options).ToJson();

        Assert.That(first.ToByteArray(), Is.EqualTo(second.ToByteArray()));
        Assert.That(firstReport, Is.EqualTo(secondReport));
    }

    [Test]
    public void ReportSerialisesWithSnakeCaseKeys()
    {
        ModelProto model = TinyModels.SharedWeight();
        PassReport report = DynamicQuantization.Run(model, new DynamicQuantizationOptions { NodesToExclude = ["mm2"] });

        using var json = System.Text.Json.JsonDocument.Parse(report.ToJson());

        Assert.That(json.RootElement.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[]
        {
            "pass", "nodes_quantized", "weights_quantized", "parameters_quantized", "constants_removed", "skipped_nodes", "notes",
        }));
        Assert.That(json.RootElement.GetProperty("pass").GetString(), Is.EqualTo("dynamic_quantization"));
        Assert.That(json.RootElement.GetProperty("nodes_quantized").GetInt32(), Is.EqualTo(1));
        System.Text.Json.JsonElement skipped = json.RootElement.GetProperty("skipped_nodes")[0];
        Assert.That(skipped.GetProperty("op_type").GetString(), Is.EqualTo("MatMul"));
        Assert.That(skipped.GetProperty("reason").GetString(), Is.EqualTo("excluded by nodes_to_exclude 'mm2'"));
    }

    internal static void AssertFusedToIntegerKernels(ModelProto model, int quantizedNodes)
    {
        ModelProto optimized = OrtRunner.OptimizedGraph(model);
        List<string> ops = new ModelGraph(optimized).AllNodes().Select(n => n.Node.OpType).ToList();
        TestContext.Out.WriteLine($"ORT optimized graph: {string.Join(", ", ops)}");
        Assert.That(ops.Count(IntegerKernels.Contains), Is.EqualTo(quantizedNodes), $"ORT optimized graph: {string.Join(", ", ops)}");
        Assert.That(ops, Has.None.AnyOf("MatMul", "Gemm", "FusedGemm", "FusedMatMul"));
    }

    private static void AssertWithinBound(ModelProto quantized, float[] expected, float[] weightKn, int k, int n)
    {
        float[] actual = OrtRunner.Run(quantized, "X", Input, [Rows, k]);
        float[] scales = TensorData.ReadFloats(QuantizedModelProbe.QuantizedWeights(quantized).Single().Scale);
        float[] bound = QuantizedModelProbe.ErrorBound(Input, Rows, weightKn, k, n, scales);
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(bound[i]), $"element {i}");
        }

        Assert.That(RelativeL2(actual, expected), Is.GreaterThan(0), "output really comes from quantized weights");
    }

    private static float[] RunWith(ModelProto model, Dictionary<string, (float[], long[])> inputs)
    {
        using Microsoft.ML.OnnxRuntime.InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        return OrtRunner.Run(session, inputs, "Y");
    }

    private static float[] RunIf(ModelProto model, float[] x, bool condition)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model.ToByteArray());
        using var xValue = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(x, [Rows, TinyModels.K]);
        using var condValue = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new[] { condition }, []);
        using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
        using var outputs = session.Run(runOptions, ["X", "cond"], [xValue, condValue], ["Y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    internal static double RelativeL2(float[] actual, float[] expected)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff += Math.Pow(actual[i] - expected[i], 2);
            norm += Math.Pow(expected[i], 2);
        }

        return Math.Sqrt(diff / norm);
    }

    private static float[] Transposed(float[] values, int rows, int columns)
    {
        var result = new float[values.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = values[(r * columns) + c];
            }
        }

        return result;
    }
}
