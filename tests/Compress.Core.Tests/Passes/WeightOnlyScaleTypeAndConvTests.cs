using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;
using Compress.Runtime;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

/// <summary>Weight-only quantization with float16 block scales (the default where they fit), and Conv weights stored int8 behind DequantizeLinear.</summary>
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
    private static readonly string[] DequantizeThenConv = ["DequantizeLinear", "Conv"];
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
    public void ConvWeightIsInt8PerFilterBehindDequantizeLinearAndConvStaysFloat()
    {
        ModelProto model = ConvModel(13, out float[] w);
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 41);
        float[] expected = OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["MatMul", "Gemm", "Conv"] });

        Assert.That((report.NodesQuantized, report.WeightsQuantized, report.ParametersQuantized, report.ConstantsRemoved), Is.EqualTo((1, 1, w.Length, 1)));
        Assert.That(report.Notes, Has.Some.StartsWith("1 Conv weight(s) stored int8 per output channel"));
        Assert.That(model.OpsetImport.Any(o => o.Domain == ModelGraph.MicrosoftDomain), Is.False, "no contrib operator is written");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(DequantizeThenConv));
        NodeProto dq = model.Graph.Node[0];
        // Zero points of 0 are DequantizeLinear's default, but without them Compress.Runtime's default session
        // (x64quantprecision) made ORT give this per-axis DequantizeLinear a scalar zero point and fail at run time.
        Assert.That(dq.Input, Has.Count.EqualTo(3));
        TensorProto zeroPoints = model.Graph.Initializer.Single(t => t.Name == dq.Input[2]);
        Assert.That(((TensorProto.Types.DataType)zeroPoints.DataType, zeroPoints.Dims.ToArray()), Is.EqualTo((TensorProto.Types.DataType.Int8, new long[] { Filters })));
        Assert.That(zeroPoints.RawData.ToArray(), Is.All.EqualTo(0));
        Assert.That(dq.Attribute.Single(a => a.Name == "axis").I, Is.Zero);
        TensorProto q = model.Graph.Initializer.Single(t => t.Name == dq.Input[0]);
        Assert.That((TensorProto.Types.DataType)q.DataType, Is.EqualTo(TensorProto.Types.DataType.Int8));
        Assert.That(q.Dims, Is.EqualTo(new long[] { Filters, Channels, 3, 3 }));
        float[] scales = TensorData.ReadFloats(model.Graph.Initializer.Single(t => t.Name == dq.Input[1]));
        int perFilter = Channels * 9;
        for (int f = 0; f < Filters; f++)
        {
            Assert.That(scales[f], Is.EqualTo(w.Skip(f * perFilter).Take(perFilter).Max(Math.Abs) / 127f).Within(1e-7f), $"filter {f}");
        }

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

    [Test]
    public void ConvBelowOpset13IsUpgradedAndQuantizedAsAtOpset13()
    {
        ModelProto model = ConvModel(12, out _);
        ModelProto atOpset13 = ConvModel(13, out _);
        float[] x = TinyModels.RandomValues(Channels * Size * Size, 41);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["Conv"] });
        WeightOnlyQuantization.Run(atOpset13, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["Conv"] });

        Assert.That(report.Notes, Has.Some.EqualTo("upgraded ai.onnx opset 12 -> 13 for the Conv weights' per-channel DequantizeLinear"));
        Assert.That(model.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(13));
        Assert.That((report.NodesQuantized, report.SkippedNodes.Count), Is.EqualTo((1, 0)));
        Assert.That(OrtRunner.Run(model, "X", x, [1, Channels, Size, Size]), Is.EqualTo(OrtRunner.Run(atOpset13, "X", x, [1, Channels, Size, Size])));
    }

    [Test]
    public void ConvBelowOpset13ThatCannotBeUpgradedIsSkippedWithTheReason()
    {
        ModelProto model = ConvModel(12, out _);
        // An operator the upgrader does not know keeps the model at opset 12.
        model.Graph.Node.Add(TinyModels.Node("Unique", "unique", ["Y"], ["U"]));

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["Conv"] });

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.Notes, Has.Some.StartsWith("kept opset 12 (cannot upgrade to 13: Unique 'unique': operator not known to the opset upgrader)"));
        Assert.That(report.SkippedNodes.Single().Reason, Is.EqualTo("Conv weights need a per-channel DequantizeLinear (ai.onnx opset 13 or later)"));
        Assert.That(model.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(12));
    }

    [Test]
    public void MatMulOnlyModelBelowOpset13KeepsItsOpset()
    {
        ModelProto model = TinyModels.MatMul();
        model.OpsetImport.Single(o => o.Domain.Length == 0).Version = 12;

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { OpTypesToQuantize = ["MatMul", "Conv"] });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(report.Notes, Has.None.Contains("opset 12 -> 13"), "no Conv, no reason to touch the opset");
        Assert.That(model.OpsetImport.Single(o => o.Domain.Length == 0).Version, Is.EqualTo(12));
    }

    [Test]
    public void ConvIsLeftAloneUnlessListed()
    {
        ModelProto model = ConvModel(13, out _);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions());

        Assert.That(report.NodesQuantized, Is.Zero);
        Assert.That(report.SkippedNodes, Is.Empty, "an unlisted Conv is not reported as skipped");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(ConvOnly));
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
