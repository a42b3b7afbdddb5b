using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Passes;
using Compress.Core.Passes.Qdq;
using Compress.Core.Spec;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Tests.Passes;

/// <summary>16-bit activations (and weights) in static QDQ: ORT's contrib Q/DQ, 16-bit zero points, near-float accuracy.</summary>
public class StaticSixteenBitTests
{
    [Test]
    public void ComputeScaleZeroPointForSixteenBitTypes()
    {
        // uint16 [0,65535]: scale 4/65535, zero point round(1/(4/65535)) = 16384 (round half to even of 16383.75).
        QuantParameters u16 = QuantParameters.Compute(-1f, 3f, QuantType.QUInt16, false, false, null);
        Assert.That(u16.Scale, Is.EqualTo(4f / 65535f).Within(1e-12f));
        Assert.That(u16.ZeroPoint, Is.EqualTo(16384));
        // Symmetric int16 uses [-32767,32767].
        Assert.That(QuantParameters.Compute(-1f, 3f, QuantType.QInt16, true, false, null), Is.EqualTo(new QuantParameters(3f / 32767f, 0, QuantType.QInt16)));
    }

    [TestCase(QuantType.QUInt16, TensorProto.Types.DataType.Uint16)]
    [TestCase(QuantType.QInt16, TensorProto.Types.DataType.Int16)]
    public void SixteenBitActivationsUseContribQdqAndStayCloseToFloat(QuantType activationType, TensorProto.Types.DataType expectedType)
    {
        (ModelProto model, float[] x, float[] reference, Dictionary<string, TensorRange> ranges) = Digits();
        ModelProto eightBit = model.Clone();
        StaticQuantization.Run(eightBit, ranges, new StaticQuantizationOptions { PerChannel = true });

        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { PerChannel = true, ActivationType = activationType });

        var graph = new ModelGraph(model);
        List<NodeProto> quantizers = [.. model.Graph.Node.Where(n => n.OpType == "QuantizeLinear")];
        Assert.That(quantizers, Is.Not.Empty);
        Assert.That(quantizers.Select(q => q.Domain), Is.All.EqualTo(ModelGraph.MicrosoftDomain));
        Assert.That(quantizers.Select(q => (TensorProto.Types.DataType)graph.Main.FindConstant(q.Input[2])!.DataType), Is.All.EqualTo(expectedType));
        Assert.That(model.OpsetImport.Any(o => o.Domain == ModelGraph.MicrosoftDomain), Is.True);
        Assert.That(report.Notes, Has.Some.Contains("com.microsoft QuantizeLinear"));
        // int8 weights keep ONNX's own DequantizeLinear.
        Assert.That(model.Graph.Node.Where(n => n.OpType == "DequantizeLinear" && graph.Main.FindConstant(n.Input[0]) is not null).Select(n => n.Domain), Is.All.EqualTo(string.Empty));

        // Mean, not max: test logits beyond the calibrated range saturate alike at 8 and 16 bits.
        double error16 = MeanAbsDifference(Run(model, x), reference);
        double error8 = MeanAbsDifference(Run(eightBit, x), reference);
        TestContext.Out.WriteLine($"digits mean |logit error|: 8-bit activations {error8:G4}, {activationType} activations {error16:G4}");
        Assert.That(error16, Is.LessThan(error8), "16-bit activations leave mostly the int8 weight error");
    }

    [Test]
    public void SixteenBitWeightsAreStoredInTwoBytes()
    {
        (ModelProto model, float[] x, float[] reference, Dictionary<string, TensorRange> ranges) = Digits();
        PassReport report = StaticQuantization.Run(model, ranges, new StaticQuantizationOptions { ActivationType = QuantType.QUInt16, WeightType = QuantType.QInt16 });

        var graph = new ModelGraph(model);
        List<TensorProto> weights = [.. model.Graph.Node
            .Where(n => n.OpType == "DequantizeLinear" && graph.Main.FindConstant(n.Input[0]) is { DataType: TensorProto.Types.DataType.Int16 })
            .Select(n => graph.Main.FindConstant(n.Input[0])!.Value!)];
        Assert.That(weights, Has.Count.EqualTo(3), "the three Gemm weights");
        Assert.That(weights.Select(w => w.RawData.Length), Is.EqualTo(weights.Select(w => 2 * w.Dims.Aggregate(1L, (a, b) => a * b))));
        Assert.That(report.ParametersQuantized, Is.EqualTo(weights.Sum(w => w.Dims.Aggregate(1L, (a, b) => a * b))));
        double error = MeanAbsDifference(Run(model, x), reference);
        TestContext.Out.WriteLine($"digits A16W16 mean |logit error| {error:G4}");
        Assert.That(error, Is.LessThan(0.002));
    }

    [Test]
    public void NodeOverrideGivesOneNodeSixteenBitOutputs()
    {
        (ModelProto model, _, _, Dictionary<string, TensorRange> ranges) = Digits();
        // The middle Gemm (its Relu folded): its output, read by the last Gemm, becomes 16-bit.
        NodeProto middle = model.Graph.Node.Where(n => n.OpType == "Gemm").ElementAt(1);
        string output = model.Graph.Node.Single(n => n.OpType == "Relu" && n.Input[0] == middle.Output[0]).Output[0];
        StaticQuantization.Run(model, ranges, new StaticQuantizationOptions
        {
            NodeOverrides = [new StaticNodeOverride { Node = middle.Name, ActivationType = QuantType.QUInt16 }],
        });

        var graph = new ModelGraph(model);
        NodeProto dq = model.Graph.Node.Single(n => n.OpType == "DequantizeLinear" && n.Output[0] == output);
        Assert.That(dq.Domain, Is.EqualTo(ModelGraph.MicrosoftDomain));
        Assert.That((TensorProto.Types.DataType)graph.Main.FindConstant(dq.Input[2])!.DataType, Is.EqualTo(TensorProto.Types.DataType.Uint16));
        Assert.That(
            model.Graph.Node.Where(n => n.OpType == "QuantizeLinear" && n.Domain.Length == 0).Select(n => (TensorProto.Types.DataType)graph.Main.FindConstant(n.Input[2])!.DataType),
            Is.Not.Empty.And.All.EqualTo(TensorProto.Types.DataType.Int8), "the pass-wide default (QInt8) elsewhere");
    }

    private static (ModelProto Model, float[] X, float[] Reference, Dictionary<string, TensorRange> Ranges) Digits()
    {
        ModelProto model = SharedMaterial.LoadModel("digits-mlp");
        float[] calibration = NpyArray.Load(SharedMaterial.DataPath("digits_calib_x.npy")).ToSingleArray();
        float[] x = NpyArray.Load(SharedMaterial.DataPath("digits_test_x.npy")).ToSingleArray();
        Dictionary<string, TensorRange> ranges = StaticMinMaxCalibration.Calibrate(model, StaticMinMaxCalibration.Batches("input", calibration, [64], 64));
        return (model, x, Run(model, x), ranges);
    }

    private static float[] Run(ModelProto model, float[] x)
    {
        using InferenceSession session = OrtRunner.CreateSession(model.ToByteArray(), null);
        return OrtRunner.Run(session, new Dictionary<string, (float[], long[])> { ["input"] = (x, [x.Length / 64, 64]) }, "logits");
    }

    private static double MeanAbsDifference(float[] a, float[] b) => a.Zip(b).Average(p => Math.Abs(p.First - p.Second));
}
