using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>Everything one run shares: the graph view, options, cache of quantized weights.</summary>
internal sealed class DynamicQuantizationRun(ModelGraph graph, DynamicQuantizationOptions options, DynamicQuantizationForm form, PassReport report)
{
    private readonly Dictionary<string, object> _cache = new(StringComparer.Ordinal);
    private readonly List<ConstantTensor> _replaced = [];

    public ModelGraph Graph { get; } = graph;

    public DynamicQuantizationOptions Options { get; } = options;

    public DynamicQuantizationForm Form { get; } = form;

    public PassReport Report { get; } = report;

    /// <summary>Names of the tensors and nodes this run adds.</summary>
    public QuantizationNames Names { get; } = new(graph);

    /// <summary>A value quantized earlier in this run under <paramref name="key"/> (weights shared by several nodes are quantized once).</summary>
    public bool TryGetCached<T>(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
        where T : class
    {
        value = _cache.TryGetValue(key, out object? cached) ? cached as T : null;
        return value is not null;
    }

    /// <summary>Remembers a quantized value under <paramref name="key"/>.</summary>
    public void Cache(string key, object value) => _cache[key] = value;

    /// <summary>Float constants that quantized nodes stopped reading (removal candidates, first-seen order).</summary>
    public IReadOnlyList<ConstantTensor> ReplacedConstants => _replaced;

    /// <summary>
    /// Quantizes a weight once per (weight, layout): a weight shared by several nodes with the
    /// same transB/alpha reuses the same integer tensors; the float weight stays while any other
    /// node still reads it.
    /// </summary>
    public DynamicQuantizedWeight GetOrQuantize(ConstantTensor weight, TensorProto value, bool transB, float alpha)
    {
        string key = string.Create(CultureInfo.InvariantCulture, $"{weight.Owner.Path}\n{weight.Name}\n{transB}\n{BitConverter.SingleToInt32Bits(alpha)}");
        if (TryGetCached(key, out DynamicQuantizedWeight? cached))
        {
            return cached;
        }

        float[] w = TensorData.ReadFloats(value);
        int rows = checked((int)value.Dims[0]);
        int columns = checked((int)value.Dims[1]);
        if (transB)
        {
            // Gemm transB=1 stores B as [N,K]; MatMulInteger needs [K,N] (output channels last).
            w = RowMajor.Transpose(w, rows, columns);
            (rows, columns) = (columns, rows);
        }

        if (alpha != 1f)
        {
            // Folding alpha into the weight keeps the scale positive and the pattern fusable.
            for (int i = 0; i < w.Length; i++)
            {
                w[i] *= alpha;
            }
        }

        QuantizedMatrix q = QuantizedMatrix.Quantize(w, rows, columns, Options.WeightType, Options.PerChannel, Options.ReduceRange);
        // Symmetric int8 weights have zero points of 0, the default of MatMulInteger and DynamicQuantizeMatMul:
        // not writing them saves a byte per output column (≈ 1 % of a small MLP's file) and ORT still fuses.
        bool omitZeroPoint = q.ZeroPoints.All(z => z == 0);
        QuantizationNames.Unit unit = Names.Next();
        var names = new DynamicQuantizedWeight(unit.Quantized(), unit.Scale(), omitZeroPoint ? string.Empty : unit.ZeroPoint(), columns);
        Graph.AddConstant(weight.Owner, q.WeightTensor(names.Weight));
        Graph.AddConstant(weight.Owner, q.ScaleTensor(names.Scale));
        if (!omitZeroPoint)
        {
            Graph.AddConstant(weight.Owner, q.ZeroPointTensor(names.ZeroPoint));
        }

        Cache(key, names);
        Report.AddQuantizedWeight(names.Weight, weight.Name, w.Length, q.Sqnr(w));
        Remember(weight);
        Report.WeightsQuantized++;
        Report.ParametersQuantized += w.Length;
        return names;
    }

    /// <summary>
    /// DynamicQuantizeLinear → MatMulInteger → Cast → Mul [→ Add], the quantize_dynamic pattern. The MatMulInteger
    /// takes the replaced node's name (what a profile shows); the others are named after their unit.
    /// </summary>
    public List<NodeProto> EmitStandard(GraphScope scope, NodeProto node, DynamicQuantizedWeight w, string? biasName, float beta, long n)
    {
        string output = node.Output[0];
        QuantizationNames.Unit unit = Names.Next();
        (string? bias, List<NodeProto> biasPrep) = biasName is null ? (null, []) : PrepareBias(scope, unit, biasName, beta, n);
        string mulOut = bias is null ? output : unit.Name("y");
        List<NodeProto> nodes = EmitChain(unit, node.Input[0], w.Scale, mulOut, (xq, xZeroPoint, product) =>
            Graph.CreateNode("MatMulInteger", ReplacedNodeName(node), w.ZeroPoint.Length == 0 ? [xq, w.Weight, xZeroPoint] : [xq, w.Weight, xZeroPoint, w.ZeroPoint], [product]));
        nodes.InsertRange(0, biasPrep);
        if (bias is not null)
        {
            nodes.Add(Graph.CreateNode("Add", unit.Name("B"), [mulOut, bias], [output]));
        }

        return nodes;
    }

    /// <summary>
    /// The chain around one integer node (MatMulInteger, ConvInteger): DynamicQuantizeLinear(<paramref name="input"/>) →
    /// the node <paramref name="integerNode"/> builds from the quantized input, its zero point and the int32 product's
    /// name → Cast → Mul by input scale × <paramref name="weightScale"/>, writing <paramref name="result"/>.
    /// </summary>
    public List<NodeProto> EmitChain(QuantizationNames.Unit unit, string input, string weightScale, string result, Func<string, string, string, NodeProto> integerNode)
    {
        string xq = unit.Quantized();
        string xScale = unit.Scale();
        string xZeroPoint = unit.ZeroPoint();
        string product = unit.Name("i");
        string productFloat = unit.Float();
        string scale = unit.Name("m");
        NodeProto cast = Graph.CreateNode("Cast", unit.Name("C"), [product], [productFloat]);
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
        return
        [
            Graph.CreateNode("DynamicQuantizeLinear", unit.QuantizeNode(), [input], [xq, xScale, xZeroPoint]),
            integerNode(xq, xZeroPoint, product),
            cast,
            Graph.CreateNode("Mul", unit.Name("M"), [xScale, weightScale], [scale]),
            Graph.CreateNode("Mul", unit.Name("Y"), [productFloat, scale], [result]),
        ];
    }

    /// <summary>com.microsoft DynamicQuantizeMatMul(A, B, b_scale, b_zero_point, bias) [→ Add for non-1-D bias], named as the node it replaces.</summary>
    public List<NodeProto> EmitContrib(GraphScope scope, NodeProto node, DynamicQuantizedWeight w, string? biasName, float beta, long n)
    {
        string output = node.Output[0];
        QuantizationNames.Unit unit = Names.Next();
        (string? bias, List<NodeProto> nodes) = biasName is null ? (null, []) : PrepareBias(scope, unit, biasName, beta, n);
        bool biasIsVector = bias is not null && IsVectorOfLength(scope, bias, n);
        var inputs = new List<string> { node.Input[0], w.Weight, w.Scale, w.ZeroPoint };
        if (biasIsVector)
        {
            inputs.Add(bias!);
        }
        else if (w.ZeroPoint.Length == 0)
        {
            inputs.RemoveAt(3);
        }

        string matMulOut = bias is null || biasIsVector ? output : unit.Name("y");
        nodes.Add(Graph.CreateNode("DynamicQuantizeMatMul", ReplacedNodeName(node), inputs, [matMulOut], ModelGraph.MicrosoftDomain));
        if (bias is not null && !biasIsVector)
        {
            nodes.Add(Graph.CreateNode("Add", unit.Name("B"), [matMulOut, bias], [output]));
        }

        return nodes;
    }

    /// <summary>
    /// The name of the node that replaces <paramref name="node"/>: its own (the graph reserved it when it was read,
    /// and the node leaves the graph), or its output's when it has none.
    /// </summary>
    public static string ReplacedNodeName(NodeProto node) => node.Name.Length > 0 ? node.Name : node.Output.First(o => o.Length > 0);

    /// <summary>
    /// The tensor to add as Gemm bias (beta·C). A constant C broadcastable to [N] becomes a 1-D
    /// [N] constant (the shape ORT folds into DynamicQuantizeMatMul); other constants are scaled
    /// in place of shape; a computed C is used as is (beta = 1) or through a Mul by beta.
    /// </summary>
    private (string Bias, List<NodeProto> Nodes) PrepareBias(GraphScope scope, QuantizationNames.Unit unit, string biasName, float beta, long n)
    {
        ConstantTensor? constant = scope.FindConstant(biasName);
        TensorProto? value = constant?.Value;
        if (constant is null || value is null || TensorData.IsExternal(value) || constant.DataType != TensorProto.Types.DataType.Float)
        {
            if (beta == 1f)
            {
                return (biasName, []);
            }

            string betaName = unit.Name("beta");
            Graph.AddConstant(scope, TensorData.CreateFloat(betaName, [], [beta]));
            string scaled = unit.Name("b");
            return (scaled, [Graph.CreateNode("Mul", unit.Name("BM"), [biasName, betaName], [scaled])]);
        }

        bool isVector = value.Dims.Count == 1 && value.Dims[0] == n;
        if (beta == 1f && isVector)
        {
            return (biasName, []);
        }

        float[] c = TensorData.ReadFloats(value);
        bool toVector = value.Dims.Count <= 2 && value.Dims.Take(value.Dims.Count - 1).All(d => d == 1)
            && (value.Dims.Count == 0 || value.Dims[^1] == n || value.Dims[^1] == 1);
        float[] scaledValues = toVector
            ? Enumerable.Range(0, (int)n).Select(i => beta * c[c.Length == 1 ? 0 : i]).ToArray()
            : c.Select(v => beta * v).ToArray();
        long[] dims = toVector ? [n] : value.Dims.ToArray();
        string name = unit.Name("b");
        Graph.AddConstant(scope, TensorData.CreateFloat(name, dims, scaledValues));
        Remember(constant);
        return (name, []);
    }

    private static bool IsVectorOfLength(GraphScope scope, string name, long n) =>
        scope.FindConstant(name) is { } c && c.Dims.Count == 1 && c.Dims[0] == n;


    public void Remember(ConstantTensor constant)
    {
        if (!_replaced.Any(r => r.Owner == constant.Owner && r.Name == constant.Name))
        {
            _replaced.Add(constant);
        }
    }
}
