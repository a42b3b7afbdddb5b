using Compress.Core.Evaluation;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Dynamic quantization of one LSTM into com.microsoft DynamicQuantizeLSTM, following
/// onnxruntime.quantization's operators/lstm.py: W [D,4H,I] and R [D,4H,H] are quantized to
/// symmetric int8 and stored transposed as [D,I,4H] and [D,H,4H]; scales and zero points are [D]
/// per tensor (one per direction, as lstm.py's per-axis-0 quantization gives) or [D,4H] per
/// channel. Inputs: X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zero_point,
/// R_scale, R_zero_point; the LSTM attributes are copied (layout 0 is dropped: the contrib op has
/// no such attribute and is batch-second).
/// </summary>
/// <remarks>
/// int8 whatever <see cref="DynamicQuantizationOptions.WeightType"/> says, as lstm.py does: the
/// kernel needs every uint8 zero point of a tensor to be equal, which asymmetric per-channel uint8
/// would break. ONNX Runtime has no DynamicQuantizeGRU, so GRU stays float.
/// </remarks>
internal static class DynamicQuantizationLstm
{
    /// <summary>Replaces one LSTM; returns a skip reason instead when it cannot be quantized.</summary>
    public static string? TryQuantize(DynamicQuantizationRun run, GraphNode candidate)
    {
        (GraphScope scope, NodeProto node) = candidate;
        if (node.Input.Count < 3)
        {
            return "unexpected number of inputs";
        }

        if (ModelGraph.GetInt(node, "layout", 0) != 0)
        {
            return "LSTM with layout=1 (batch-first) has no DynamicQuantizeLSTM form";
        }

        long hidden = ModelGraph.GetInt(node, "hidden_size", 0);
        (TensorProto? w, string? wProblem) = FloatWeight(scope, node.Input[1], "W");
        (TensorProto? r, string? rProblem) = FloatWeight(scope, node.Input[2], "R");
        if (w is null || r is null)
        {
            return wProblem ?? rProblem;
        }

        if (hidden <= 0 || w.Dims[1] != 4 * hidden || r.Dims[1] != 4 * hidden || r.Dims[2] != hidden || w.Dims[0] != r.Dims[0])
        {
            return $"unexpected W [{string.Join(",", w.Dims)}] / R [{string.Join(",", r.Dims)}] for hidden_size {hidden}";
        }

        LstmWeight qw = GetOrQuantize(run, scope.FindConstant(node.Input[1])!, w);
        LstmWeight qr = GetOrQuantize(run, scope.FindConstant(node.Input[2])!, r);
        run.Report.AddWeightReader(qw.Weight, node);
        run.Report.AddWeightReader(qr.Weight, node);
        var inputs = new List<string> { node.Input[0], qw.Weight, qr.Weight };
        for (int i = 3; i <= 7; i++)
        {
            inputs.Add(i < node.Input.Count ? node.Input[i] : string.Empty);
        }

        inputs.AddRange([qw.Scale, qw.ZeroPoint, qr.Scale, qr.ZeroPoint]);
        NodeProto quantized = run.Graph.CreateNode("DynamicQuantizeLSTM", DynamicQuantizationRun.ReplacedNodeName(node), inputs, node.Output, ModelGraph.MicrosoftDomain);
        quantized.Attribute.AddRange(node.Attribute.Where(a => a.Name != "layout").Select(a => a.Clone()));
        run.Graph.ReplaceNode(scope, node, [quantized]);
        run.Report.NodesQuantized++;
        if (run.Options.WeightType != QuantType.QInt8)
        {
            run.Report.AddNote("LSTM weights are int8 whatever weight_type says (as quantize_dynamic's lstm.py)");
        }

        return null;
    }

    private static (TensorProto? Value, string? Problem) FloatWeight(GraphScope scope, string name, string role)
    {
        ConstantTensor? constant = name.Length == 0 ? null : scope.FindConstant(name);
        TensorProto? value = constant?.Value;
        if (constant is null)
        {
            return (null, $"{role} is not a constant");
        }

        if (value is null || TensorData.IsExternal(value))
        {
            return (null, $"{role} value is not available in memory");
        }

        if (constant.DataType != TensorProto.Types.DataType.Float)
        {
            return (null, $"{role} type {constant.DataType} is not float32");
        }

        return value.Dims.Count == 3 ? (value, null) : (null, $"{role} has rank {value.Dims.Count}, expected 3");
    }

    /// <summary>Quantizes W or R ([D, 4H, K]) per direction into [D, K, 4H] int8 with [D] or [D,4H] scales.</summary>
    private static LstmWeight GetOrQuantize(DynamicQuantizationRun run, ConstantTensor weight, TensorProto value)
    {
        string key = $"lstm\n{weight.Owner.Path}\n{weight.Name}";
        if (run.TryGetCached(key, out LstmWeight? cached))
        {
            return cached;
        }

        int directions = checked((int)value.Dims[0]);
        int gates = checked((int)value.Dims[1]);
        int inner = checked((int)value.Dims[2]);
        float[] w = TensorData.ReadFloats(value);
        bool perChannel = run.Options.PerChannel;
        var data = new byte[w.Length];
        var scales = new List<float>();
        var sqnr = default(SqnrAccumulator); // over every direction
        for (int d = 0; d < directions; d++)
        {
            // [4H, K] → [K, 4H]: QuantizedMatrix scales per column, the gate channel.
            float[] transposed = new float[gates * inner];
            for (int g = 0; g < gates; g++)
            {
                for (int k = 0; k < inner; k++)
                {
                    transposed[(k * gates) + g] = w[(d * gates * inner) + (g * inner) + k];
                }
            }

            QuantizedMatrix q = QuantizedMatrix.Quantize(transposed, inner, gates, QuantType.QInt8, perChannel, run.Options.ReduceRange);
            q.Data.CopyTo(data, d * gates * inner);
            q.AddTo(ref sqnr, transposed);
            scales.AddRange(q.Scales);
        }

        long[] parameterDims = perChannel ? [directions, gates] : [directions];
        QuantizationNames.Unit unit = run.Names.Next();
        var names = new LstmWeight(unit.Quantized(), unit.Scale(), unit.ZeroPoint());
        run.Graph.AddConstant(weight.Owner, TensorData.Create(names.Weight, [directions, inner, gates], TensorProto.Types.DataType.Int8, data));
        run.Graph.AddConstant(weight.Owner, TensorData.CreateFloat(names.Scale, parameterDims, scales.ToArray()));
        run.Graph.AddConstant(weight.Owner, TensorData.CreateInt8(names.ZeroPoint, parameterDims, new sbyte[scales.Count]));
        run.Cache(key, names);
        run.Report.AddQuantizedWeight(names.Weight, weight.Name, w.Length, sqnr.Decibels);
        run.Remember(weight);
        run.Report.WeightsQuantized++;
        run.Report.ParametersQuantized += w.Length;
        return names;
    }

    /// <summary>Names of a quantized LSTM W or R: int8 [D,K,4H], scale and zero point ([D] or [D,4H]).</summary>
    private sealed record LstmWeight(string Weight, string Scale, string ZeroPoint);
}
