using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Element types of every tensor name of a model before conversion, per graph, from graph inputs,
/// initializers, Constant nodes, declared value_info and a small per-operator rule table (most ops
/// output the type of their first input). Stands in for ONNX shape inference, which the references
/// run first; unknown types are 0 (UNDEFINED).
/// </summary>
internal sealed class Float16ConversionTypes
{
    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Int64 = (int)TensorProto.Types.DataType.Int64;
    private const int Int32 = (int)TensorProto.Types.DataType.Int32;
    private const int Bool = (int)TensorProto.Types.DataType.Bool;
    private const int UInt8 = (int)TensorProto.Types.DataType.Uint8;

    private readonly Dictionary<GraphScope, Dictionary<string, int>> _types = [];

    private Float16ConversionTypes()
    {
    }

    /// <summary>Infers the element types of every graph of <paramref name="graph"/> (parents before children).</summary>
    public static Float16ConversionTypes Infer(ModelGraph graph)
    {
        var result = new Float16ConversionTypes();
        foreach (GraphScope scope in graph.Graphs)
        {
            result.InferScope(scope);
        }

        return result;
    }

    /// <summary>The graph that defines <paramref name="name"/> as seen from <paramref name="scope"/>, or null.</summary>
    public GraphScope? DefiningScope(GraphScope scope, string name)
    {
        for (GraphScope? s = scope; s is not null; s = s.Parent)
        {
            if (_types.TryGetValue(s, out Dictionary<string, int>? names) && names.ContainsKey(name))
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>The element type of <paramref name="name"/> seen from <paramref name="scope"/> (0 when unknown).</summary>
    public int TypeOf(GraphScope scope, string name)
    {
        GraphScope? owner = DefiningScope(scope, name);
        return owner is null ? 0 : _types[owner][name];
    }

    /// <summary>True when <paramref name="name"/> seen from <paramref name="scope"/> is float32.</summary>
    public bool IsFloat(GraphScope scope, string name) => TypeOf(scope, name) == Float;

    /// <summary>Names defined by <paramref name="scope"/> itself with their types.</summary>
    public IReadOnlyDictionary<string, int> DefinedIn(GraphScope scope) => _types[scope];

    private void InferScope(GraphScope scope)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        _types[scope] = names;
        GraphProto g = scope.Graph;
        var declared = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ValueInfoProto v in g.ValueInfo.Concat(g.Output))
        {
            int t = ElemType(v);
            if (t != 0)
            {
                declared[v.Name] = t;
            }
        }

        foreach (ValueInfoProto input in g.Input)
        {
            names[input.Name] = ElemType(input);
        }

        foreach (TensorProto initializer in g.Initializer)
        {
            names.TryAdd(initializer.Name, initializer.DataType);
        }

        foreach (NodeProto node in g.Node)
        {
            int[] outputs = OutputTypes(scope, node);
            for (int i = 0; i < node.Output.Count; i++)
            {
                string output = node.Output[i];
                if (output.Length == 0)
                {
                    continue;
                }

                int inferred = i < outputs.Length ? outputs[i] : 0;
                names[output] = declared.TryGetValue(output, out int d) ? d : inferred;
            }
        }
    }

    private int[] OutputTypes(GraphScope scope, NodeProto node)
    {
        int Input(int index) => index < node.Input.Count && node.Input[index].Length > 0 ? TypeOf(scope, node.Input[index]) : 0;
        int first = node.Input.FirstOrDefault(i => i.Length > 0) is { } name ? TypeOf(scope, name) : 0;
        int count = node.Output.Count;
        int[] All(int t) => Enumerable.Repeat(t, count).ToArray();
        if (!ModelGraph.IsDefaultDomain(node.Domain))
        {
            return All(first);
        }

        switch (node.OpType)
        {
            case "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" or "NonMaxSuppression":
                return All(Int64);
            case "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "And" or "Or" or "Xor" or "Not" or "IsNaN" or "IsInf":
                return All(Bool);
            case "TopK" or "MaxPool":
                return [first, Int64];
            case "Unique":
                return [first, Int64, Int64, Int64];
            case "Dropout":
                return [first, Bool];
            case "MatMulInteger" or "ConvInteger":
                return All(Int32);
            case "QuantizeLinear":
                return [node.Input.Count > 2 && node.Input[2].Length > 0 ? Input(2) : UInt8];
            case "DynamicQuantizeLinear":
                return [UInt8, Float, UInt8];
            case "DequantizeLinear":
                return [Input(1)];
            case "QLinearConv" or "QLinearMatMul":
                return [Input(7)];
            case "Cast":
                return [(int)ModelGraph.GetInt(node, "to", 0)];
            case "CastLike":
                return [Input(1)];
            case "Constant":
                return [ModelGraph.ConstantNodeValue(node, node.Output[0])?.DataType ?? 0];
            case "ConstantOfShape":
                return [node.Attribute.FirstOrDefault(a => a.Name == "value")?.T?.DataType ?? Float];
            case "RandomNormal" or "RandomUniform":
                return [(int)ModelGraph.GetInt(node, "dtype", Float)];
            case "RandomNormalLike" or "RandomUniformLike" or "EyeLike" or "Bernoulli":
                return [(int)ModelGraph.GetInt(node, "dtype", first)];
            case "Multinomial":
                return [(int)ModelGraph.GetInt(node, "dtype", Int32)];
            case "Where":
                return [Input(1)];
            case "OneHot":
                return [Input(2)];
            case "If":
                return SubgraphOutputTypes(node, "then_branch", skip: 0);
            case "Loop":
                return SubgraphOutputTypes(node, "body", skip: 1);
            case "Scan":
                return SubgraphOutputTypes(node, "body", skip: 0);
            default:
                return All(first);
        }
    }

    private static int[] SubgraphOutputTypes(NodeProto node, string attribute, int skip)
    {
        GraphProto? body = node.Attribute.FirstOrDefault(a => a.Name == attribute)?.G;
        return body is null ? [] : body.Output.Skip(skip).Select(ElemType).ToArray();
    }

    private static int ElemType(ValueInfoProto v) => v.Type?.TensorType?.ElemType ?? 0;
}
