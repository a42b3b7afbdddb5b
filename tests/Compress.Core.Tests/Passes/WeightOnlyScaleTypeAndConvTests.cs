using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Spec;
using Compress.Runtime;
using Google.Protobuf;

namespace Compress.Core.Tests.Passes;

/// <summary>Weight-only quantization with float16 block scales, and Conv weights stored int8 behind DequantizeLinear.</summary>
public class WeightOnlyScaleTypeAndConvTests
{
    private const int Rows = 3;
    private const int Width = 12;
    private const int Filters = 4;
    private const int Channels = 3;
    private const int Size = 8;
    private static readonly string[] CastNBitsCast = ["Cast", "MatMulNBits", "Cast"];
    private static readonly string[] DequantizeThenConv = ["DequantizeLinear", "Conv"];
    private static readonly string[] ConvOnly = ["Conv"];

    [Test]
    public void Float16ScalesAreStoredHalfAndMatMulNBitsRunsBetweenCasts()
    {
        const int k = 64, blockSize = 32;
        float[] w = TinyModels.RandomValues(k * Width, 31);
        ModelProto model = WeightOnlyQuantizationTests.MatMulModel(k, w);
        float[] x = TinyModels.RandomValues(Rows * k, 32);
        float[] expected = OrtRunner.Run(model, "X", x, [Rows, k]);

        PassReport report = WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { BlockSize = blockSize, ScaleType = WeightScaleType.Float16 });

        Assert.That(report.NodesQuantized, Is.EqualTo(1));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(CastNBitsCast));
        Assert.That(model.Graph.Node[0].Attribute.Single().I, Is.EqualTo((long)TensorProto.Types.DataType.Float16));
        Assert.That(model.Graph.Node[2].Attribute.Single().I, Is.EqualTo((long)TensorProto.Types.DataType.Float));
        Assert.That(model.Graph.Node[2].Output.Single(), Is.EqualTo("Y"), "the graph output stays float32");
        NodeProto nbits = model.Graph.Node[1];
        TensorProto scales = model.Graph.Initializer.Single(t => t.Name == nbits.Input[2]);
        Assert.That((TensorProto.Types.DataType)scales.DataType, Is.EqualTo(TensorProto.Types.DataType.Float16));
        Assert.That(scales.RawData.Length, Is.EqualTo(Width * (k / blockSize) * 2), "two bytes per block scale");

        // The codes were chosen against the float16 scales stored, so the half-step bound holds for the stored weights.
        WeightOnlyReferenceDecoder.Decoded decoded = WeightOnlyReferenceDecoder.Decode(new ModelGraph(model).Main, nbits);
        float[] elementBound = WeightOnlyQuantizationTests.AssertWithinHalfStep(w, decoded, symmetric: true);

        // ORT computes in float16: the activations and the result are rounded to 11 significant bits (relative 2^-11 each).
        float[] actual = OrtRunner.Run(model, "X", x, [Rows, k]);
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Width; c++)
            {
                double weightBound = 0, magnitude = 0;
                for (int i = 0; i < k; i++)
                {
                    weightBound += Math.Abs(x[(r * k) + i]) * elementBound[(i * Width) + c];
                    magnitude += Math.Abs(x[(r * k) + i] * w[(i * Width) + c]);
                }

                double bound = weightBound + (Math.Pow(2, -10) * (magnitude + Math.Abs(expected[(r * Width) + c]))) + 1e-4;
                Assert.That(actual[(r * Width) + c], Is.EqualTo(expected[(r * Width) + c]).Within(bound), $"output [{r},{c}]");
            }
        }
    }

    [Test]
    public void MatMulsReadingOneInputShareOneCast()
    {
        const int k = 32;
        ModelProto model = WeightOnlyQuantizationTests.MatMulModel(k, TinyModels.RandomValues(k * Width, 33));
        model.Graph.Initializer.Add(TensorData.CreateFloat("W2", [k, Width], TinyModels.RandomValues(k * Width, 34)));
        model.Graph.Node.Add(TinyModels.Node("MatMul", "mm2", ["X", "W2"], ["Y2"]));
        model.Graph.Output.Add(new ValueInfoProto { Name = "Y2", Type = TinyModels.TensorType(TensorProto.Types.DataType.Float, "batch", Width) });

        WeightOnlyQuantization.Run(model, new WeightOnlyQuantizationOptions { ScaleType = WeightScaleType.Float16 });

        Assert.That(model.Graph.Node.Count(n => n.OpType == "Cast" && n.Input[0] == "X"), Is.EqualTo(1));
        Assert.That(model.Graph.Node.Count(n => n.OpType == "MatMulNBits"), Is.EqualTo(2));
        Assert.That(OrtRunner.Run(model, "X", TinyModels.RandomValues(Rows * k, 35), [Rows, k]), Has.Length.EqualTo(Rows * Width), "ORT runs it");
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
