using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;
using Compress.Runtime;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

/// <summary>Weight-only quantization with float16 block scales (the default where they fit), and Conv weights stored int8 behind a Cast and Mul.</summary>
public class WeightOnlyScaleTypeAndConvTests
{
    private const int Rows = 3;
    private const int Width = 12;
    private const int Filters = 4;
    private const int Channels = 3;
    private const int Size = 8;
    private static readonly string[] CastThenNBits = ["Cast", "MatMulNBits"];
    private static readonly string[] NBitsOnly = ["MatMulNBits"];
    private static readonly string[] CastThenIf = ["Cast", "If"];
    private static readonly string[] ConstantCastConstantNBits = ["Constant", "Cast", "Constant", "MatMulNBits"];
    private static readonly string[] CastMulConv = ["Cast", "Mul", "Conv"];
    private static readonly string[] CastMulConvIf = ["Cast", "Mul", "Conv", "If"];
    private static readonly string[] BothConvs = ["conv", "branch_conv"];
    private static readonly string[] ConvOnly = ["Conv"];

    [Test]
    public void Float16ScalesAreStoredHalfAndReadThroughOneCastThatOrtFolds()
    {
        const int k = 64, blockSize = 32;
        float[] w = TinyModels.RandomValues(k * Width, 31);
        ModelProto model = WeightOnlyQuantizationTests.MatMulModel(k, w);
        float[] x = TinyModels.RandomValues(Rows * k, 32);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);

        // The default scale type (auto) stores these scales as float16: every one is a normal float16 magnitude.
        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { BlockSize = blockSize });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.Notes, Has.Some.StartsWith("1 weight(s) store their block scales as float16"));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastThenNBits));
        NodeProto cast = model.Graph.Node[0], nbits = model.Graph.Node[1];
        Assert.That(cast.Attribute.Single().I, Is.EqualTo((long)TensorProto.Types.DataType.Float));
        Assert.That(nbits.Input[0], Is.EqualTo("X"), "the activation is read as it is, in float32");
        Assert.That(nbits.Input[2], Is.EqualTo(cast.Output.Single()), "MatMulNBits reads the float32 copy of the scales");
        TensorProto scales = model.Graph.Initializer.Single(t => t.Name == cast.Input.Single());
        Assert.That((TensorProto.Types.DataType)scales.DataType, Is.EqualTo(TensorProto.Types.DataType.Float16));
        Assert.That(scales.RawData.Length, Is.EqualTo(Width * (k / blockSize) * 2), "two bytes per block scale");
        Assert.That(WeightOnlyQuantizationTests.OptimizedOpTypes(model), Is.EqualTo(NBitsOnly), "ORT folds the Cast into a float32 initializer at load");

        // The codes were chosen against the float16 scales stored, so the half-step bound holds for the stored weights,
        // and MatMulNBits computes in float32: X·(decoded weights) up to float rounding.
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, nbits);
        float[] elementBound = WeightOnlyQuantizationTests.AssertWithinHalfStep(w, decoded, symmetric: true);
        float[] actual = OrtRunner.Run(model, "X", x, [Rows, k]);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Width; c++)
            {
                double reference = 0, weightBound = 0, magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    reference += x[(r * k) + i] * decoded.ValuesKn[(i * Width) + c];
                    weightBound += Math.Abs(x[(r * k) + i]) * elementBound[(i * Width) + c];
                    magnitude += Math.Abs(x[(r * k) + i] * decoded.ValuesKn[(i * Width) + c]);
                }

                Assert.That(actual[(r * Width) + c], Is.EqualTo(reference).Within((1e-5 * magnitude) + 1e-6), $"X·Wq [{r},{c}] in float32");
                Assert.That(actual[(r * Width) + c], Is.EqualTo(expected[(r * Width) + c]).Within(weightBound + 1e-4), $"vs fp32 [{r},{c}]");
            }
        }
    }

    [Test]
    public void AutoKeepsFloat32ScalesForAWeightTooSmallForFloat16AndFloat16ForcesThem()
    {
        const int k = 32;
        // |w| < 2e-4: scales near 2e-5, below float16's smallest normal value (2^-14 ≈ 6.1e-5).
        float[] w = TinyModels.RandomValues(k * Width, 36, 2e-4f);
        ModelProto automatic = WeightOnlyQuantizationTests.MatMulModel(k, w);
        ModelProto forced = WeightOnlyQuantizationTests.MatMulModel(k, w);

        PassReport autoReport = WeightOnlyQuantization.Run(automatic, new WeightOnlyQuantizationOptions());
        PassReport forcedReport = WeightOnlyQuantization.Run(forced, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float16 });

        Assert.That(autoReport.Notes, Has.Some.EqualTo("1 weight(s) keep float32 block scales: a scale is outside float16's normal range"));
        Assert.That(automatic.Graph.Node.Select(n => n.OpType), Is.EqualTo(NBitsOnly));
        Assert.That((TensorProto.Types.DataType)automatic.Graph.Initializer.Single(t => t.Name == automatic.Graph.Node[0].Input[2]).DataType, Is.EqualTo(TensorProto.Types.DataType.Float));
        Assert.That(forcedReport.Notes, Has.Some.StartsWith("1 weight(s) store their block scales as float16"));
        Assert.That(forced.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastThenNBits));
        Assert.That(WeightOnlyQuantizationTests.AssertWithinHalfStep(w, WeightOnlyReferenceDecoder.Decode(new ModelGraph(automatic).Main, automatic.Graph.Node[0]), symmetric: true), Has.Length.EqualTo(k * Width));
    }

    [Test]
    public void Float16ScalesAreCastInTheGraphThatHoldsTheWeight()
    {
        ModelProto model = TinyModels.MatMulInIf();
        ModelProto reference = TinyModels.MatMulInIf();

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { BlockSize = 16 });
        WeightOnlyQuantization.Run(reference, new WeightOnlyQuantizationOptions { BlockSize = 16, ScaleType = WeightScaleType.Float });

        Assert.That(report.Notes, Has.Some.StartsWith("2 weight(s) store their block scales as float16"));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastThenIf), "the outer weight's scales are cast before the If that reads them");
        GraphProto elseBranch = model.Graph.Node[1].Attribute.Single(a => a.Name == "else_branch").G;
        Assert.That(elseBranch.Node.Select(n => n.OpType), Is.EqualTo(CastThenNBits));

        // Both branches run in ORT and agree with the float32-scale form within the float16 rounding of the scales.
        float[] x = TinyModels.RandomValues(Rows * TinyModels.K, 37);
        foreach (bool condition in new[] { true, false })
        {
            float[] actual = OrtRunner.RunWithCondition(model, x, Rows, condition);
            float[] expected = OrtRunner.RunWithCondition(reference, x, Rows, condition);
            float tolerance = expected.Max(Math.Abs) * 2e-2f;
            Assert.That(actual, Is.EqualTo(expected).Within(tolerance), condition ? "then branch (outer weight)" : "else branch (local weight)");
        }
    }

    [Test]
    public void Float16ScalesOfAConstantNodeWeightFollowTheirConstantNode()
    {
        const int k = 40;
        float[] w = TinyModels.RandomValues(k * Width, 61);
        ModelProto model = WeightOnlyQuantizationTests.MatMulModel(k, w, opset: 9);
        model.IrVersion = 3; // initializers must be graph inputs before IR 4: new constants become Constant nodes
        TensorProto weight = model.Graph.Initializer.Single();
        model.Graph.Initializer.Clear();
        NodeProto constant = TinyModels.Node("Constant", "weight_const", [], ["W"]);
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = weight });
        model.Graph.Node.Insert(0, constant);
        float[] x = TinyModels.RandomValues(Rows * k, 62);

        WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { BlockSize = 16 });

        // Scales' Constant, its Cast, the codes' Constant, MatMulNBits: each node after the ones it reads (ORT runs it below).
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(ConstantCastConstantNBits));
        Assert.That(model.Graph.Node[1].Input.Single(), Is.EqualTo(model.Graph.Node[0].Output.Single()), "the Cast reads the float16 scales' Constant");
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, model.Graph.Node[3]);
        WeightOnlyQuantizationTests.AssertWithinHalfStep(w, decoded, symmetric: true);
        float[] actual = OrtRunner.Run(model, "X", x, [Rows, k]);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Width; c++)
            {
                double reference = 0, magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    reference += x[(r * k) + i] * decoded.ValuesKn[(i * Width) + c];
                    magnitude += Math.Abs(x[(r * k) + i] * decoded.ValuesKn[(i * Width) + c]);
                }

                Assert.That(actual[(r * Width) + c], Is.EqualTo(reference).Within((1e-5 * magnitude) + 1e-6), $"X·Wq [{r},{c}] in float32");
            }
        }
    }

    [Test]
    public void ConvWeightIsInt8PerFilterBehindACastAndMulThatOrtFolds()
    {
        ModelProto model = ConvModel(13, out float[] w);
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 41);
        float[] expected = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["MatMul", "Gemm", "Conv"] });

        Assert.That((report.NodesQuantized, report.WeightsQuantized, report.ParametersQuantized, report.ConstantsRemoved), Is.EqualTo((1, 1, w.Length, 1)));
        Assert.That(report.Notes, Has.Some.StartsWith("1 Conv weight(s) stored int8 per output channel"));
        Assert.That(model.OpsetImport.Any(o => o.Domain == ModelGraph.MicrosoftDomain), Is.False, "no contrib operator is written");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastMulConv));
        NodeProto cast = model.Graph.Node[0], mul = model.Graph.Node[1];
        Assert.That(cast.Attribute.Single().I, Is.EqualTo((long)TensorProto.Types.DataType.Float));
        Assert.That((mul.Input[0], model.Graph.Node[2].Input[1]), Is.EqualTo((cast.Output.Single(), mul.Output.Single())));
        TensorProto q = model.Graph.Initializer.Single(t => t.Name == cast.Input.Single());
        Assert.That((TensorProto.Types.DataType)q.DataType, Is.EqualTo(TensorProto.Types.DataType.Int8));
        Assert.That(q.Dims, Is.EqualTo(new long[] { Filters, Channels, 3, 3 }));
        TensorProto scaleTensor = model.Graph.Initializer.Single(t => t.Name == mul.Input[1]);
        Assert.That(scaleTensor.Dims, Is.EqualTo(new long[] { Filters, 1, 1, 1 }), "one scale per output channel, broadcast over its filter");
        float[] scales = TensorData.ReadFloats(scaleTensor);
        int perFilter = Channels * 9;
        for (int f = 0; f < Filters; f++)
        {
            Assert.That(scales[f], Is.EqualTo(w.Skip(f * perFilter).Take(perFilter).Max(Math.Abs) / 127f).Within(1e-7f), $"filter {f}");
        }

        // ONNX Runtime folds Cast and Mul of constants at load: the Conv it runs reads a constant float weight again.
        Assert.That(WeightOnlyQuantizationTests.OptimizedOpTypes(model), Has.None.AnyOf("Cast", "Mul", "DequantizeLinear"));

        // Each output sums 27 products; each weight moved by at most half its filter's step. Run as an app would.
        using var loaded = CompressedModel.Load(new MemoryStream(model.ToByteArray()), "conv");
        float[] actual = loaded.Run(x, [1, Channels, Size, Size]).AsSpan<float>().ToArray();
        float xMax = x.Max(Math.Abs);
        for (int i = 0; i < actual.Length; i++)
        {
            int f = i / (Size * Size);
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within((perFilter * xMax * scales[f] / 2) + 1e-5), $"output {i}");
        }
    }

    [TestCase(9)]
    [TestCase(12)]
    public void ConvAtAnOlderOpsetIsQuantizedWithoutAnUpgrade(long opset)
    {
        ModelProto model = ConvModel(opset, out _);
        ModelProto atOpset13 = ConvModel(13, out _);
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 41);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["Conv"] });
        WeightOnlyQuantization.Run(atOpset13, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["Conv"] });

        Assert.That(model.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(opset), "Cast and Mul exist at every opset from 7");
        Assert.That((report.NodesQuantized, report.SkippedNodes.Count), Is.EqualTo((1, 0)));
        Assert.That(OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]), Is.EqualTo(OrtRunner.Run(atOpset13, "X", x, [1, Channels, Size, Size])));
    }

    [Test]
    public void ConvWeightSharedWithAnIfBranchIsDequantizedOnceWhereItLives()
    {
        ModelProto model = ConvModel(13, out _);
        NodeProto conv = model.Graph.Node.Single();
        var branch = new GraphProto { Name = "branch" };
        branch.Node.Add(TinyModels.Node("Conv", "branch_conv", ["X", "W"], ["Yb"]));
        branch.Node[0].Attribute.Add(conv.Attribute.Single().Clone());
        branch.Output.Add(new ValueInfoProto { Name = "Yb", Type = model.Graph.Output[0].Type });
        var other = new GraphProto { Name = "other" };
        other.Node.Add(TinyModels.Node("Identity", "pass", ["Y"], ["Yo"]));
        other.Output.Add(new ValueInfoProto { Name = "Yo", Type = model.Graph.Output[0].Type });
        NodeProto ifNode = TinyModels.Node("If", "if", ["cond"], ["Out"]);
        ifNode.Attribute.Add(new AttributeProto { Name = "then_branch", Type = AttributeProto.Types.AttributeType.Graph, G = branch });
        ifNode.Attribute.Add(new AttributeProto { Name = "else_branch", Type = AttributeProto.Types.AttributeType.Graph, G = other });
        model.Graph.Node.Add(ifNode);
        model.Graph.Input.Add(new ValueInfoProto { Name = "cond", Type = TinyModels.TensorType(TensorProto.Types.DataType.Bool) });
        model.Graph.Output.Add(new ValueInfoProto { Name = "Out", Type = model.Graph.Output[0].Type });

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["Conv"] });

        Assert.That((report.NodesQuantized, report.WeightsQuantized), Is.EqualTo((2, 1)));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastMulConvIf), "one Cast and Mul in the graph that holds the weight");
        Assert.That(branch.Node.Single().Input[1], Is.EqualTo(model.Graph.Node[2].Input[1]), "the branch's Conv reads the same dequantized weight");
        Assert.That(report.QuantizedWeights.Single().Readers, Is.EqualTo(BothConvs));
    }

    [Test]
    public void CleanupAfterwardsKeepsTheCastsThatKeepTheFileSmall()
    {
        ModelProto model = ConvModel(13, out _);
        model.Graph.Initializer.Add(TensorData.CreateFloat("Wm", [Size, Width], TinyModels.RandomValues(Size * Width, 38)));
        model.Graph.Node.Add(TinyModels.Node("MatMul", "mm", ["Y", "Wm"], ["Z"]));
        model.Graph.Output[0] = new ValueInfoProto { Name = "Z", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Filters, Size, Width) };
        WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { BlockSize = 16, OpTypesToQuantize = ["MatMul", "Conv"] });
        int bytes = model.CalculateSize();

        // The compress cleanup pass folds constants too, but a Cast that widens int8 weights or float16 scales is the
        // compression itself: ONNX Runtime folds it in memory at load, the file must keep the narrow form.
        GraphCleanup.Run(model, new GraphCleanupOptions());

        Assert.That(model.Graph.Node.Count(n => n.OpType == "Cast"), Is.EqualTo(2), "the Conv weight's and the MatMulNBits scales' Casts");
        Assert.That(model.CalculateSize(), Is.EqualTo(bytes));
    }

    [Test]
    public void MatMulOnlyModelBelowOpset13KeepsItsOpset()
    {
        ModelProto model = TinyModels.MatMul();
        model.OpsetImport.Single(o => o.Domain.Length == 0).Version = 12;

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["MatMul", "Conv"] });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(model.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(12));
    }

    [Test]
    public void ConvIsQuantizedByDefaultAndLeftAloneWhenNotListed()
    {
        ModelProto byDefault = ConvModel(13, out _);
        ModelProto notListed = ConvModel(13, out _);

        PassReport defaultReport = WeightOnlyQuantization.Run(byDefault, new WeightOnlyQuantizationOptions());
        PassReport report = WeightOnlyQuantization.Run(notListed, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["MatMul", "Gemm"] });

        Assert.That(defaultReport.NodesQuantized, Is.EqualTo(1));
        Assert.That(byDefault.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastMulConv));
        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.SkippedNodes, Is.Empty, "an unlisted Conv is not reported as skipped");
        Assert.That(notListed.Graph.Node.Select(n => n.OpType), Is.EqualTo(ConvOnly));
    }

    /// <summary>Y = Conv(X[1,3,8,8], W[4,3,3,3], pads 1); filter 0 has a tenth of the others' range.</summary>
    private static ModelProto ConvModel(long opset, out float[] w)
    {
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Channels, Size, Size) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, 1, Filters, Size, Size) });
        w = TinyModels.RandomValues(Filters * Channels * 9, 42, 0.5f);
        for (int i = 0; i < Channels * 9; i++)
        {
            w[i] *= 0.1f;
        }

        graph.Initializer.Add(TensorData.CreateFloat("W", [Filters, Channels, 3, 3], w));
        NodeProto conv = TinyModels.Node("Conv", "conv", ["X", "W"], ["Y"]);
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        graph.Node.Add(conv);
        var model = new ModelProto { IrVersion = 8, ProducerName = "compress-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }
}
