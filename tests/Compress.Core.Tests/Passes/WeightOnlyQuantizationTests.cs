using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Passes;

/// <summary>
/// Weight-only MatMulNBits quantization on hand-built models, with float32 scales: the layout onnxruntime.quantization
/// writes, checked block by block (float16 scales: <see cref="WeightOnlyScaleTypeAndConvTests"/>).
/// </summary>
public class WeightOnlyQuantizationTests
{
    private const int Rows = 3;
    private const int Width = 12;
    private static readonly string[] SharedWeightReaders = ["mm1", "mm2"];

    [TestCase(64, 16, true)]
    [TestCase(64, 32, true)]
    [TestCase(64, 128, true)]
    [TestCase(64, 16, false)]
    [TestCase(64, 32, false)]
    [TestCase(64, 128, false)]
    [TestCase(100, 16, true)]
    [TestCase(100, 32, true)]
    [TestCase(100, 128, true)]
    [TestCase(100, 16, false)]
    [TestCase(100, 32, false)]
    [TestCase(100, 128, false)]
    public void MatMulPacksBlocksThatDecodeToTheWeightsAndRunInOrt(int k, int blockSize, bool symmetric)
    {
        float[] w = TinyModels.RandomValues(k * Width, 11 + k);
        ModelProto model = MatMulModel(k, w);
        float[] x = TinyModels.RandomValues(Rows * k, 12);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, BlockSize = blockSize, Symmetric = symmetric });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.ParametersQuantized, Is.EqualTo(k * Width));
        Assert.That(report.ConstantsRemoved, Is.EqualTo(1), "the float weight is removed");
        Assert.That(model.Graph.Initializer.Select(t => t.Name), Does.Not.Contain("W"));
        Assert.That(model.OpsetImport.Any(o => o.Domain == ModelGraph.MicrosoftDomain), Is.True);
        NodeProto node = model.Graph.Node.Single();
        Assert.That((node.OpType, node.Domain), Is.EqualTo(("MatMulNBits", "com.microsoft")));
        Assert.That(node.Input, Has.Count.EqualTo(symmetric ? 3 : 4), "zero points only when asymmetric");
        Assert.That(node.Attribute.Any(a => a.Name == "accuracy_level"), Is.False, "accuracy_level omitted when not set");

        var graph = new ModelGraph(model);
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(graph.Main, node);
        Assert.That((decoded.K, decoded.N, decoded.Bits, decoded.BlockSize), Is.EqualTo((k, Width, 4, blockSize)));
        float[] elementBound = AssertWithinHalfStep(w, decoded, symmetric);
        AssertPaddingIsZero(decoded);

        float[] actual = OrtRunner.Run(model, "X", x, [Rows, k]);
        AssertOutputWithinBound(x, expected, actual, elementBound, k);
        Assert.That(OptimizedOpTypes(model), Does.Contain("MatMulNBits"), "ORT keeps the block-quantized kernel");
    }

    [Test]
    public void EightBitsDecodeAndRun()
    {
        const int k = 100;
        float[] w = TinyModels.RandomValues(k * Width, 21);
        ModelProto model = MatMulModel(k, w);
        float[] x = TinyModels.RandomValues(Rows * k, 22);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);

        WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, Bits = 8, BlockSize = 32, Symmetric = false });

        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, model.Graph.Node.Single());
        Assert.That(decoded.Bits, Is.EqualTo(8));
        float[] bound = AssertWithinHalfStep(w, decoded, symmetric: false);
        AssertOutputWithinBound(x, expected, OrtRunner.Run(model, "X", x, [Rows, k]), bound, k);
        Assert.That(OptimizedOpTypes(model), Does.Contain("MatMulNBits"));
    }

    [Test]
    public void AccuracyLevelFourIsWrittenAndRunsWithInt8Activations()
    {
        const int k = 64;
        float[] w = TinyModels.RandomValues(k * Width, 31);
        ModelProto model = MatMulModel(k, w);
        float[] x = TinyModels.RandomValues(Rows * k, 32);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);

        WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, AccuracyLevel = 4 });

        Assert.That(model.Graph.Node.Single().Attribute.Single(a => a.Name == "accuracy_level").I, Is.EqualTo(4));
        float[] actual = OrtRunner.Run(model, "X", x, [Rows, k]);

        // Activations are quantized to int8 per block at run time: allow the weight bound plus
        // |w|·(max|x| / 127) per term (half a step of x at 8 bits, doubled for the block scale).
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, model.Graph.Node.Single());
        float xStep = x.Max(MathF.Abs) / 127f;
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Width; c++)
            {
                double bound = 1e-4;
                for (int i = 0; i < k; i++)
                {
                    bound += (Math.Abs(x[(r * k) + i]) * Math.Abs(decoded.ScaleKn[(i * Width) + c])) + (Math.Abs(w[(i * Width) + c]) * xStep);
                }

                Assert.That(actual[(r * Width) + c], Is.EqualTo(expected[(r * Width) + c]).Within(bound));
            }
        }
    }

    [TestCase(false)]
    [TestCase(true)]
    public void GemmBecomesMatMulNBitsPlusScaledBias(bool transB)
    {
        const int k = TinyModels.K;
        ModelProto model = TinyModels.Gemm(alpha: 0.5f, beta: 2f, transB: transB, biasDims: [TinyModels.N]);
        float[] x = TinyModels.RandomValues(Rows * k, 41);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);
        float[] b = TensorData.ReadFloats(model.Graph.Initializer.Single(t => t.Name == "B"));
        float[] weightKn = transB ? Transpose(b, TinyModels.N, k) : b;
        float[] scaledKn = weightKn.Select(v => 0.5f * v).ToArray();

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, BlockSize = 16 });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.ConstantsRemoved, Is.EqualTo(2), "float B and C both replaced");
        Assert.That(string.Join(",", model.Graph.Node.Select(n => n.OpType)), Is.EqualTo("MatMulNBits,Add"));
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, model.Graph.Node[0]);
        float[] bound = AssertWithinHalfStep(scaledKn, decoded, symmetric: true);
        AssertOutputWithinBound(x, expected, OrtRunner.Run(model, "X", x, [Rows, k]), bound, k);
    }

    [Test]
    public void GemmWithTransAIsSkippedWithReason()
    {
        ModelProto model = TinyModels.Gemm(1f, 1f, true, [TinyModels.N]);
        model.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "transA", Type = AttributeProto.Types.AttributeType.Int, I = 1 });

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float });

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.SkippedNodes.Single(), Is.EqualTo(new SkippedNode("gemm", "Gemm", "tiny", "Gemm with transA=1 (MatMulNBits takes A as is)")));
        Assert.That(model.Graph.Node.Single().OpType, Is.EqualTo("Gemm"));
    }

    [Test]
    public void ExcludedAndNonConstantWeightsAreReported()
    {
        ModelProto model = TinyModels.SharedWeight();
        model.Graph.Input.Add(new ValueInfoProto { Name = "V", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, TinyModels.K, TinyModels.K) });
        model.Graph.Node.Add(TinyModels.Node("MatMul", "dynamic_mm", ["Y", "V"], ["Z"]));

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, BlockSize = 16, NodesToExclude = ["mm?"] });

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.SkippedNodes.Select(s => (s.Node, s.Reason)), Is.EqualTo(new[]
        {
            ("mm1", "excluded by nodes_to_exclude 'mm?'"),
            ("mm2", "excluded by nodes_to_exclude 'mm?'"),
            ("dynamic_mm", "weight is not a constant"),
        }));
        Assert.That(model.Graph.Initializer.Single().Name, Is.EqualTo("W"));
    }

    [Test]
    public void SharedWeightIsQuantizedOnce()
    {
        ModelProto model = TinyModels.SharedWeight();
        float[] x = TinyModels.RandomValues(Rows * TinyModels.K, 51);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, TinyModels.K]);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, BlockSize = 16 });

        Assert.That((report.NodesQuantized, report.WeightsQuantized, report.ConstantsRemoved), Is.EqualTo((2, 1, 1)));
        Assert.That(string.Join(",", model.Graph.Initializer.Select(t => t.Name)), Is.EqualTo("W_Q4,W_scales"));
        Assert.That(report.Notes, Does.Contain("1 weight(s) with K not a multiple of 16: last block padded"));
        float[] w = TensorData.ReadFloats(TinyModels.SharedWeight().Graph.Initializer.Single());
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, model.Graph.Node[0]);

        // The report's SQNR of the weight is 10·log10(Σw² / Σ(w − decoded)²), and both nodes are named as its readers.
        QuantizedWeightRecord record = report.QuantizedWeights.Single();
        double signal = w.Sum(v => (double)v * v);
        double noise = w.Select((v, i) => ((double)v - decoded.ValuesKn[i]) * ((double)v - decoded.ValuesKn[i])).Sum();
        Assert.That((record.IntegerTensor, record.Tensor, record.Elements), Is.EqualTo(("W_Q4", "W", (long)w.Length)));
        Assert.That(record.Readers, Is.EqualTo(SharedWeightReaders));
        Assert.That(record.SqnrDb, Is.EqualTo(10 * Math.Log10(signal / noise)).Within(1e-3));
        float[] actual = OrtRunner.Run(model, "X", x, [Rows, TinyModels.K]);

        // Both nodes read the same packed weight: the output is (X·Wq)·Wq up to float rounding, and it
        // differs from (X·W)·W by at most Σ(|ΔY1|·|Wq| + |Y1|·|ΔW|) with |ΔY1| ≤ Σ|x|·|ΔW|.
        const int k = TinyModels.K;
        float[] e = AssertWithinHalfStep(w, decoded, symmetric: true);
        for (int r = 0; r < Rows; r++)
        {
            var y1 = new double[k];
            var y1Bound = new double[k];
            for (int j = 0; j < k; j++)
            {
                for (int i = 0; i < k; i++)
                {
                    y1[j] += x[(r * k) + i] * decoded.ValuesKn[(i * k) + j];
                    y1Bound[j] += Math.Abs(x[(r * k) + i]) * e[(i * k) + j];
                }
            }

            for (int c = 0; c < k; c++)
            {
                double reference = 0, bound = 1e-4;
                for (int j = 0; j < k; j++)
                {
                    reference += y1[j] * decoded.ValuesKn[(j * k) + c];
                    bound += (y1Bound[j] * Math.Abs(decoded.ValuesKn[(j * k) + c])) + ((Math.Abs(y1[j]) + y1Bound[j]) * e[(j * k) + c]);
                }

                Assert.That(actual[(r * k) + c], Is.EqualTo(reference).Within(1e-4), $"(X·Wq)·Wq [{r},{c}]");
                Assert.That(actual[(r * k) + c], Is.EqualTo(expected[(r * k) + c]).Within(bound), $"vs fp32 [{r},{c}]");
            }
        }
    }

    [Test]
    public void WeightsInOuterScopeAndInsideIfBranchesAreQuantizedWhereTheyLive()
    {
        ModelProto model = TinyModels.MatMulInIf();

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, BlockSize = 16 });

        Assert.That((report.NodesQuantized, report.ConstantsRemoved), Is.EqualTo((2, 2)));
        Assert.That(string.Join(",", model.Graph.Initializer.Select(t => t.Name)), Is.EqualTo("W_outer_Q4,W_outer_scales"));
        GraphProto elseBranch = model.Graph.Node.Single().Attribute.Single(a => a.Name == "else_branch").G;
        Assert.That(string.Join(",", elseBranch.Initializer.Select(t => t.Name)), Is.EqualTo("W_local_Q4,W_local_scales"));
        Assert.That(elseBranch.Node.Single().OpType, Is.EqualTo("MatMulNBits"));
    }

    [Test]
    public void ConstantNodeWeightAtOpset9IsQuantized()
    {
        const int k = 40;
        float[] w = TinyModels.RandomValues(k * Width, 61);
        ModelProto model = MatMulModel(k, w, opset: 9);
        TensorProto weight = model.Graph.Initializer.Single();
        model.Graph.Initializer.Clear();
        NodeProto constant = TinyModels.Node("Constant", "weight_const", [], ["W"]);
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = weight });
        model.Graph.Node.Insert(0, constant);
        float[] x = TinyModels.RandomValues(Rows * k, 62);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, BlockSize = 16 });

        Assert.That((report.NodesQuantized, report.ConstantsRemoved), Is.EqualTo((1, 1)));
        Assert.That(string.Join(",", model.Graph.Node.Select(n => n.OpType)), Is.EqualTo("MatMulNBits"));
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, model.Graph.Node.Single());
        float[] bound = AssertWithinHalfStep(w, decoded, symmetric: true);
        AssertOutputWithinBound(x, expected, OrtRunner.Run(model, "X", x, [Rows, k]), bound, k);
    }

    [TestCase(3, 32)]
    [TestCase(4, 8)]
    [TestCase(4, 48)]
    [TestCase(4, 512)]
    public void InvalidOptionsAreRejected(int bits, int blockSize)
    {
        ModelProto model = TinyModels.MatMul();

        Assert.That(
            () => WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float, Bits = bits, BlockSize = blockSize }),
            Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    internal static ModelProto MatMulModel(int k, float[] w, long opset = 13)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", k) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", Width) });
        graph.Initializer.Add(TensorData.CreateFloat("W", [k, Width], w));
        graph.Node.Add(TinyModels.Node("MatMul", "mm", ["X", "W"], ["Y"]));
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }

    /// <summary>
    /// Every decoded weight equals the original clamped to its block's representable range
    /// [(0 − zp)·s, (max code − zp)·s] within half a step |s|/2 (+1e-6 relative float slack), and is
    /// never more than one step away from the original (the clamped end of a symmetric block loses
    /// at most one step: 7/8 of the range's far side is representable; asymmetric zero-point rounding
    /// shifts the grid by at most half a step). Returns the per-element bound |dequantized − original|.
    /// </summary>
    internal static float[] AssertWithinHalfStep(float[] originalKn, WeightOnlyReferenceDecoder.Decoded decoded, bool symmetric)
    {
        int maxCode = (1 << decoded.Bits) - 1;
        var bound = new float[originalKn.Length];
        int clipped = 0;
        for (int i = 0; i < originalKn.Length; i++)
        {
            float scale = decoded.ScaleKn[i];
            int zeroPoint = decoded.ZeroPointKn[i];
            if (symmetric)
            {
                Assert.That(zeroPoint, Is.EqualTo(1 << (decoded.Bits - 1)), "implicit zero point");
            }

            float halfStep = Math.Abs(scale) / 2;
            float a = (0 - zeroPoint) * scale, b = (maxCode - zeroPoint) * scale;
            float target = Math.Clamp(originalKn[i], Math.Min(a, b), Math.Max(a, b));
            clipped += target != originalKn[i] ? 1 : 0;
            float slack = (1e-6f * Math.Abs(originalKn[i])) + 1e-7f;
            float deq = decoded.ValuesKn[i];
            float error = Math.Abs(deq - originalKn[i]);
            Assert.That(Math.Abs(deq - target), Is.LessThanOrEqualTo(halfStep + slack), $"element {i}: {originalKn[i]} decoded {deq}, step {scale}");
            Assert.That(error, Is.LessThanOrEqualTo((2 * halfStep) + slack), $"element {i}: never more than one step");
            bound[i] = halfStep + Math.Abs(originalKn[i] - target) + slack;
        }

        TestContext.Out.WriteLine($"{clipped} of {originalKn.Length} weights at a clipped end of their block range");
        return bound;
    }

    private static void AssertPaddingIsZero(WeightOnlyReferenceDecoder.Decoded decoded)
    {
        int blocks = (decoded.K + decoded.BlockSize - 1) / decoded.BlockSize;
        int blob = decoded.BlockSize * decoded.Bits / 8;
        int usedInLastBlock = decoded.K - ((blocks - 1) * decoded.BlockSize);
        for (int column = 0; column < decoded.N; column++)
        {
            int lastBlob = (column * blocks * blob) + ((blocks - 1) * blob);
            for (int code = usedInLastBlock; code < decoded.BlockSize; code++)
            {
                int bit = code * decoded.Bits;
                int value = (decoded.Packed[lastBlob + (bit / 8)] >> (bit % 8)) & ((1 << decoded.Bits) - 1);
                Assert.That(value, Is.Zero, $"padding code {code} of column {column}");
            }
        }
    }

    /// <summary>|y_q − y| ≤ Σ_k |x_k|·bound_kn + 1e-4: float accumulation order is the only other difference.</summary>
    private static void AssertOutputWithinBound(float[] x, float[] expected, float[] actual, float[] elementBoundKn, int k)
    {
        int n = expected.Length / Rows;
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double bound = 1e-4;
                for (int i = 0; i < k; i++)
                {
                    bound += Math.Abs(x[(r * k) + i]) * elementBoundKn[(i * n) + c];
                }

                Assert.That(actual[(r * n) + c], Is.EqualTo(expected[(r * n) + c]).Within(bound), $"output [{r},{c}]");
            }
        }
    }

    private static float[] Transpose(float[] values, int rows, int columns)
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

    internal static List<string> OptimizedOpTypes(ModelProto model) =>
        OrtRunner.OptimizedGraph(model).Graph.Node.Select(n => n.OpType).ToList();
}
