using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>
/// Raises a model's ai.onnx opset import (to 13 for static quantization's per-axis
/// DequantizeLinear) when every default-domain operator present, in every graph, has the same
/// meaning at the target or is rewritten here to keep it: Clip min/max (&lt; 11), Slice
/// starts/ends/axes (&lt; 10), Squeeze/Unsqueeze axes, Split split, ReduceSum axes (&lt; 13), Pad
/// pads/value (&lt; 11) and Dropout ratio (&lt; 12) attributes become constant inputs; Softmax,
/// LogSoftmax and Hardmax keep their old 2-D coercion (kept as is when the axis is the last one of
/// a known rank, else rewritten to Flatten → op → Reshape). Anything else that changed meaning, or an
/// operator it does not know, makes it refuse with a reason and leave the model untouched.
/// </summary>
public static class OpsetUpgrade
{
    // Operators whose meaning for float inference is the same from opset 7 up to 13 (checked
    // against the ONNX operator changelog: later versions only add types or optional behaviour).
    private static readonly HashSet<string> Unchanged = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Add", "And", "ArgMax", "ArgMin", "Asin", "Atan", "AveragePool", "BatchNormalization", "Cast", "Ceil",
        "Concat", "Constant", "ConstantOfShape", "Conv", "ConvTranspose", "Cos", "DepthToSpace", "Div", "Elu", "Equal", "Erf", "Exp",
        "Expand", "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Greater", "HardSigmoid", "Identity",
        "If", "InstanceNormalization", "LRN", "LeakyRelu", "Less", "Log", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mul", "Neg",
        "Not", "Or", "PRelu", "Pow", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
        "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare", "Relu", "Reshape", "Resize", "Selu", "Shape", "Sigmoid", "Sign",
        "Sin", "Size", "Softplus", "Softsign", "SpaceToDepth", "Sqrt", "Sub", "Sum", "Tan", "Tanh", "Tile", "Transpose", "Where",
        "Xor", "Einsum", "GatherElements", "GatherND", "ScatterND", "Round", "NonZero", "TopK", "LSTM", "GRU", "RNN", "Mod",
        "Clip", "Slice", "Squeeze", "Unsqueeze", "Split", "ReduceSum", "Pad", "Dropout", "Softmax", "LogSoftmax", "Hardmax",
    };

    /// <summary>Upgrades <paramref name="model"/> in place to ai.onnx <paramref name="targetVersion"/> (≤ 13), or explains why not.</summary>
    public static OpsetUpgradeResult Upgrade(ModelProto model, long targetVersion)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (targetVersion > 13)
        {
            throw new ArgumentOutOfRangeException(nameof(targetVersion), "Only upgrades up to opset 13 are known.");
        }

        var graph = new ModelGraph(model);
        long version = graph.OpsetVersion(ModelGraph.DefaultDomain);
        if (version >= targetVersion)
        {
            return new OpsetUpgradeResult(true, null, []);
        }

        if (version < 7)
        {
            return Refuse($"opset {version} < 7 is not supported by the upgrader");
        }

        if (model.IrVersion < 4)
        {
            return Refuse($"IR version {model.IrVersion} < 4 (initializers would have to be graph inputs)");
        }

        foreach (GraphNode gn in graph.AllNodes())
        {
            if (ModelGraph.IsDefaultDomain(gn.Node.Domain) && Check(gn.Node, version, targetVersion) is { } reason)
            {
                return Refuse($"{gn.Node.OpType} '{gn.Node.Name}': {reason}");
            }
        }

        var changes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (GraphNode gn in graph.AllNodes().ToList())
        {
            if (ModelGraph.IsDefaultDomain(gn.Node.Domain) && Rewrite(graph, gn, version, targetVersion) is { } change)
            {
                changes[change] = changes.GetValueOrDefault(change) + 1;
            }
        }

        foreach (OperatorSetIdProto opset in model.OpsetImport.Where(o => ModelGraph.IsDefaultDomain(o.Domain)))
        {
            opset.Version = targetVersion;
        }

        if (model.IrVersion < 7)
        {
            model.IrVersion = 7;
        }

        return new OpsetUpgradeResult(true, null, changes.Select(p => $"{p.Value} {p.Key}").ToList());
    }

    private static OpsetUpgradeResult Refuse(string reason) => new(false, reason, []);

    /// <summary>Null when the node can be carried to the target version, else why not.</summary>
    private static string? Check(NodeProto node, long from, long to)
    {
        if (!Unchanged.Contains(node.OpType))
        {
            return "operator not known to the opset upgrader";
        }

        return node.OpType switch
        {
            "Resize" when from < 11 => "Resize-10 has other coordinate semantics",
            "Resize" when Attribute(node, "coordinate_transformation_mode")?.S.ToStringUtf8() == "tf_half_pixel_for_nn" => "tf_half_pixel_for_nn was removed at opset 13",
            "TopK" when from < 10 => "TopK k attribute (opset < 10)",
            "BatchNormalization" when node.Output.Count > 1 => "training outputs changed at opset 14/15",
            "BatchNormalization" when from < 9 && Attribute(node, "spatial") is { I: 0 } => "spatial=0",
            "Dropout" when node.Output.Count > 1 && from < 10 => "mask output type changed at opset 10",
            "LSTM" or "GRU" or "RNN" when to > 13 => "layout attribute added at 14",
            "Pad" when from < 11 && Attribute(node, "mode")?.S.ToStringUtf8() is { } m && m != "constant" && m != "reflect" && m != "edge" => $"mode {m}",
            _ => null,
        };
    }

    private static string? Rewrite(ModelGraph graph, GraphNode gn, long from, long to)
    {
        (GraphScope scope, NodeProto node) = gn;
        switch (node.OpType)
        {
            case "Clip" when from < 11 && to >= 11:
                string min = MoveFloatAttribute(graph, scope, node, "min");
                string max = MoveFloatAttribute(graph, scope, node, "max");
                SetInputs(node, node.Input[0], min, max);
                return "Clip: min/max attributes -> inputs";
            case "Slice" when from < 10 && to >= 10:
                string starts = MoveIntsAttribute(graph, scope, node, "starts")!;
                string ends = MoveIntsAttribute(graph, scope, node, "ends")!;
                string axes = MoveIntsAttribute(graph, scope, node, "axes") ?? string.Empty;
                SetInputs(node, node.Input[0], starts, ends, axes);
                return "Slice: starts/ends/axes attributes -> inputs";
            case "Squeeze" or "Unsqueeze" or "ReduceSum" when from < 13 && to >= 13:
                string? axesInput = MoveIntsAttribute(graph, scope, node, "axes");
                if (axesInput is not null)
                {
                    node.Input.Add(axesInput);
                }

                return $"{node.OpType}: axes attribute -> input";
            case "Split" when from < 13 && to >= 13:
                string? split = MoveIntsAttribute(graph, scope, node, "split");
                if (split is not null)
                {
                    SetInputs(node, node.Input[0], split);
                }

                return "Split: split attribute -> input";
            case "Pad" when from < 11 && to >= 11:
                string pads = MoveIntsAttribute(graph, scope, node, "pads")!;
                string value = MoveFloatAttribute(graph, scope, node, "value");
                SetInputs(node, node.Input[0], pads, value);
                return "Pad: pads/value attributes -> inputs";
            case "Dropout" when from < 12 && to >= 12:
                string ratio = MoveFloatAttribute(graph, scope, node, "ratio");
                SetInputs(node, node.Input[0], ratio);
                return "Dropout: ratio attribute -> input";
            case "Softmax" or "LogSoftmax" or "Hardmax" when from < 13 && to >= 13:
                return RewriteSoftmax(graph, scope, node);
            default:
                return null;
        }
    }

    /// <summary>
    /// Before 13 these ops flatten the input to 2-D at <c>axis</c> (default 1) and work on the
    /// second dimension; from 13 they work along <c>axis</c> (default −1). Same result when axis is
    /// the last dimension; otherwise Flatten(axis) → op(axis=−1) → Reshape(original shape).
    /// </summary>
    private static string RewriteSoftmax(ModelGraph graph, GraphScope scope, NodeProto node)
    {
        long axis = Attribute(node, "axis")?.I ?? 1;
        int? rank = KnownRank(scope, node.Input[0]) ?? KnownRank(scope, node.Output[0]);
        if (axis == -1 || (rank is { } r && (axis == r - 1 || axis + r == r - 1)))
        {
            SetAxis(node, -1);
            return $"{node.OpType}: axis is the last dimension, unchanged";
        }

        string input = node.Input[0];
        string output = node.Output[0];
        string stem = node.Name.Length > 0 ? node.Name : output;
        string shape = graph.UniqueName(stem + "_input_shape");
        string flat = graph.UniqueName(stem + "_flattened");
        string result = graph.UniqueName(stem + "_2d");
        NodeProto shapeNode = graph.CreateNode("Shape", graph.UniqueName(stem + "_Shape"), [input], [shape]);
        NodeProto flatten = graph.CreateNode("Flatten", graph.UniqueName(stem + "_Flatten"), [input], [flat]);
        flatten.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = axis });
        NodeProto reshape = graph.CreateNode("Reshape", graph.UniqueName(stem + "_Reshape"), [result, shape], [output]);
        node.Input[0] = flat;
        node.Output[0] = result;
        SetAxis(node, -1);
        graph.InsertBefore(scope, node, [shapeNode, flatten]);
        graph.InsertAfter(scope, node, [reshape]);
        return $"{node.OpType}: 2-D coercion kept with Flatten/Reshape";
    }

    private static int? KnownRank(GraphScope scope, string name)
    {
        ValueInfoProto? info = scope.Graph.ValueInfo.Concat(scope.Graph.Input).Concat(scope.Graph.Output).FirstOrDefault(v => v.Name == name);
        TypeProto.Types.Tensor? tensor = info?.Type?.TensorType;
        return tensor?.Shape is { } shape ? shape.Dim.Count : null;
    }

    private static void SetAxis(NodeProto node, long axis)
    {
        AttributeProto? existing = Attribute(node, "axis");
        if (existing is null)
        {
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = axis });
        }
        else
        {
            existing.I = axis;
        }
    }

    private static void SetInputs(NodeProto node, params string[] inputs)
    {
        // Trailing empty names are optional inputs left out.
        int count = inputs.Length;
        while (count > 1 && inputs[count - 1].Length == 0)
        {
            count--;
        }

        node.Input.Clear();
        node.Input.AddRange(inputs.Take(count));
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    /// <summary>Moves a float attribute to a scalar Constant feeding the node; empty name when absent.</summary>
    private static string MoveFloatAttribute(ModelGraph graph, GraphScope scope, NodeProto node, string name)
    {
        AttributeProto? attribute = Attribute(node, name);
        if (attribute is null)
        {
            return string.Empty;
        }

        node.Attribute.Remove(attribute);
        return AddConstant(graph, scope, node, name, TensorData.CreateFloat(string.Empty, [], [attribute.F]));
    }

    /// <summary>Moves an ints attribute to a 1-D int64 Constant feeding the node; null when absent.</summary>
    private static string? MoveIntsAttribute(ModelGraph graph, GraphScope scope, NodeProto node, string name)
    {
        AttributeProto? attribute = Attribute(node, name);
        if (attribute is null)
        {
            return null;
        }

        node.Attribute.Remove(attribute);
        return AddConstant(graph, scope, node, name, TensorData.CreateInt64(string.Empty, [attribute.Ints.Count], attribute.Ints.ToArray()));
    }

    private static string AddConstant(ModelGraph graph, GraphScope scope, NodeProto node, string what, TensorProto value)
    {
        string stem = (node.Name.Length > 0 ? node.Name : node.Output[0]) + "_" + what;
        string output = graph.UniqueName(stem);
        value.Name = output;
        NodeProto constant = graph.CreateNode("Constant", graph.UniqueName(stem + "_Constant"), [], [output]);
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
        graph.InsertBefore(scope, node, [constant]);
        return output;
    }
}
