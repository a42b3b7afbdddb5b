using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// Dynamic quantization of one Conv, as quantize_dynamic's ConvInteger operator does:
/// DynamicQuantizeLinear(X) → ConvInteger(Xq, Wq, x_zero_point, w_zero_point) → Cast(float) →
/// Mul(x_scale · w_scale) [→ Add(bias as [1,M,1,…])]. Every Conv attribute (group, pads, strides,
/// dilations, auto_pad, kernel_shape) is copied, so grouped and depthwise convolutions keep their
/// meaning. ONNX Runtime does not fuse this pattern (checked on 1.31.1): each node runs as written.
/// </summary>
/// <remarks>
/// Weights are stored as <b>uint8</b>. ONNX Runtime 1.31.1's ConvInteger accepts int8 weights (u8s8)
/// and gives the same results as the equivalent uint8 weights, but runs about 10× slower (a 3×3
/// 8→16-channel Conv on 8×64×64: 9.0 ms u8s8 against 0.95 ms u8u8, one thread), so int8 values are
/// offset by 128 into uint8 with the scalar zero point 128 — the numbers are identical and the fast
/// uint8 kernel runs. The same form carries per-channel scales: ORT's ConvInteger only takes a
/// scalar weight zero point, and the symmetric values have zero point 128 in every channel. The
/// per-channel scale tensor is shaped [1,M,1,…] so that it broadcasts over the output directly.
/// </remarks>
internal static class DynamicQuantizationConv
{
    /// <summary>ai.onnx opset that has DynamicQuantizeLinear (ConvInteger itself needs 10).</summary>
    private const long MinimumOpset = 11;

    /// <summary>Replaces one Conv; returns a skip reason instead when it cannot be quantized.</summary>
    public static string? TryQuantize(DynamicQuantizationRun run, GraphNode candidate, long opset)
    {
        (GraphScope scope, NodeProto node) = candidate;
        if (opset < MinimumOpset)
        {
            return $"opset {opset} < {MinimumOpset}: DynamicQuantizeLinear is not available, Conv left float";
        }

        if (node.Input.Count < 2 || node.Output.Count != 1)
        {
            return "unexpected number of inputs or outputs";
        }

        ConstantTensor? weight = scope.FindConstant(node.Input[1]);
        if (weight is null)
        {
            return "weight is not a constant";
        }

        TensorProto? value = weight.Value;
        if (value is null || TensorData.IsExternal(value))
        {
            return "weight value is not available in memory";
        }

        if (weight.DataType != TensorProto.Types.DataType.Float)
        {
            return $"weight type {weight.DataType} is not float32";
        }

        if (value.Dims.Count < 3)
        {
            return $"weight has rank {value.Dims.Count}; a Conv weight has rank ≥ 3";
        }

        ConvWeight quantized = GetOrQuantize(run, weight, value);
        run.Report.AddWeightReader(quantized.Weight, node);
        string? biasName = node.Input.Count > 2 && node.Input[2].Length > 0 ? node.Input[2] : null;
        run.Graph.ReplaceNode(scope, node, Emit(run, scope, node, quantized, biasName, value.Dims.Count));
        run.Report.NodesQuantized++;
        return null;
    }

    private static List<NodeProto> Emit(DynamicQuantizationRun run, GraphScope scope, NodeProto node, ConvWeight w, string? biasName, int rank)
    {
        ModelGraph graph = run.Graph;
        string output = node.Output[0];
        QuantizationNames.Unit unit = run.Names.Next();
        string mulOut = biasName is null ? output : unit.Name("y");
        List<NodeProto> nodes = run.EmitChain(unit, node.Input[0], w.Scale, mulOut, (xq, xZeroPoint, product) =>
        {
            NodeProto convInteger = graph.CreateNode("ConvInteger", DynamicQuantizationRun.ReplacedNodeName(node), [xq, w.Weight, xZeroPoint, w.ZeroPoint], [product]);
            convInteger.Attribute.AddRange(node.Attribute.Select(a => a.Clone()));
            return convInteger;
        });
        if (biasName is not null)
        {
            string bias = PrepareBias(run, scope, unit, biasName, rank, nodes);
            nodes.Add(graph.CreateNode("Add", unit.Name("B"), [mulOut, bias], [output]));
        }

        return nodes;
    }

    /// <summary>
    /// The bias as [1,M,1,…] so that it broadcasts over [N,M,spatial…]: a constant is rewritten
    /// in that shape, a computed bias goes through a Reshape (inserted before the Add).
    /// </summary>
    private static string PrepareBias(DynamicQuantizationRun run, GraphScope scope, QuantizationNames.Unit unit, string biasName, int rank, List<NodeProto> nodes)
    {
        long[] shape = Enumerable.Repeat(1L, rank).ToArray();
        ConstantTensor? constant = scope.FindConstant(biasName);
        TensorProto? value = constant?.Value;
        if (constant is not null && value is not null && !TensorData.IsExternal(value) && constant.DataType == TensorProto.Types.DataType.Float && value.Dims.Count == 1)
        {
            string key = $"bias\n{constant.Owner.Path}\n{constant.Name}\n{rank}";
            if (run.TryGetCached(key, out string? cached))
            {
                return cached;
            }

            shape[1] = value.Dims[0];
            string name = unit.Name("b");
            run.Graph.AddConstant(constant.Owner, TensorData.CreateFloat(name, shape, TensorData.ReadFloats(value)));
            run.Remember(constant);
            run.Cache(key, name);
            return name;
        }

        shape[1] = -1;
        string shapeName = unit.Name("bshape");
        run.Graph.AddConstant(scope, TensorData.CreateInt64(shapeName, [rank], shape));
        string reshaped = unit.Name("b");
        nodes.Add(run.Graph.CreateNode("Reshape", unit.Name("BR"), [biasName, shapeName], [reshaped]));
        return reshaped;
    }

    private static ConvWeight GetOrQuantize(DynamicQuantizationRun run, ConstantTensor weight, TensorProto value)
    {
        string key = $"conv\n{weight.Owner.Path}\n{weight.Name}";
        if (run.TryGetCached(key, out ConvWeight? cached))
        {
            return cached;
        }

        DynamicQuantizationOptions options = run.Options;
        long[] dims = value.Dims.ToArray();
        int outputChannels = checked((int)dims[0]);
        int perChannelSize = checked((int)(dims.Skip(1).Aggregate(1L, (a, b) => a * b)));
        float[] w = TensorData.ReadFloats(value);

        // QuantizedMatrix scales columns; a Conv weight [M, C/g·k…] has its output channels on rows.
        float[] columnsAreChannels = RowMajor.Transpose<float>(w, outputChannels, perChannelSize);
        bool asymmetric = options.WeightType == QuantType.QUInt8 && !options.PerChannel;
        QuantizedMatrix q = QuantizedMatrix.Quantize(columnsAreChannels, perChannelSize, outputChannels, asymmetric ? QuantType.QUInt8 : QuantType.QInt8, options.PerChannel, options.ReduceRange);
        double sqnr = q.Sqnr(columnsAreChannels);
        if (!asymmetric)
        {
            q = q.ToOffsetUInt8();
        }

        byte[] data = RowMajor.Transpose<byte>(q.Data, perChannelSize, outputChannels);
        long[] scaleDims = q.Scales.Length == 1 ? [] : [1, outputChannels, .. Enumerable.Repeat(1L, dims.Length - 2)];
        QuantizationNames.Unit unit = run.Names.Next();
        var names = new ConvWeight(unit.Quantized(), unit.Scale(), unit.ZeroPoint());
        run.Graph.AddConstant(weight.Owner, TensorData.CreateUInt8(names.Weight, dims, data));
        run.Graph.AddConstant(weight.Owner, TensorData.CreateFloat(names.Scale, scaleDims, q.Scales));
        run.Graph.AddConstant(weight.Owner, TensorData.CreateUInt8(names.ZeroPoint, [], [(byte)q.ZeroPoints[0]]));
        run.Cache(key, names);
        run.Report.AddQuantizedWeight(names.Weight, weight.Name, w.Length, sqnr);
        run.Remember(weight);
        run.Report.WeightsQuantized++;
        run.Report.ParametersQuantized += w.Length;
        run.Report.AddNote(string.Create(
            CultureInfo.InvariantCulture,
            $"Conv weights {(asymmetric ? "uint8 asymmetric" : "symmetric int8 stored as uint8 + 128")} {(options.PerChannel ? "per-channel" : "per-tensor")} (ORT's ConvInteger runs u8s8 ~10x slower than u8u8 and takes only a scalar weight zero point); ConvInteger is not fused by ORT"));
        return names;
    }

    /// <summary>Names of a quantized Conv weight: uint8 [M, C/g, k…], scale ([] or [1,M,1,…]) and scalar zero point.</summary>
    private sealed record ConvWeight(string Weight, string Scale, string ZeroPoint);
}
