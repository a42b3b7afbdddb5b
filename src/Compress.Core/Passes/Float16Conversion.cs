using System.Globalization;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Passes;

/// <summary>
/// float32 → float16 conversion of a whole model, as onnxconverter_common.float16 /
/// onnxruntime.transformers.float16 convert_float_to_float16 do: float constants (initializers,
/// Constant nodes, tensor attributes) become float16 with clamping, Cast-to-float becomes
/// Cast-to-float16, value_info and graph I/O types follow, and nodes in the block lists keep
/// computing in float32 with Cast nodes on their float inputs and outputs. Works through subgraphs
/// (If/Loop/Scan bodies; casts go into the graph that defines the tensor), keeps a float constant
/// in float32 when only float32 consumers read it, and keeps inputs whose type is fixed to float
/// (Resize/Upsample scales) in float32.
/// </summary>
/// <remarks>
/// The report reuses <see cref="PassReport"/>: <c>nodes_quantized</c> counts nodes now computing in
/// float16, <c>weights_quantized</c>/<c>parameters_quantized</c> the constants and elements
/// converted, <c>skipped_nodes</c> the blocked nodes that touch float tensors. Nodes of other domains
/// (com.microsoft, …) are kept in float32, since their float16 support differs per operator.
/// </remarks>
public static class Float16Conversion
{
    /// <summary>The name this pass uses in reports.</summary>
    public const string PassName = "float16_conversion";

    private const int Float = (int)TensorProto.Types.DataType.Float;
    private const int Float16 = (int)TensorProto.Types.DataType.Float16;

    /// <summary>Converts <paramref name="model"/> to float16 in place.</summary>
    /// <returns>What was converted, the nodes kept in float32 and notes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A clamping limit float16 cannot hold.</exception>
    public static PassReport Run(ModelProto model, Float16ConversionOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var run = new Conversion(model, options);
        return run.Execute();
    }

    /// <summary>A float tensor name in the graph that defines it.</summary>
    private readonly record struct TensorKey(GraphScope Scope, string Name);

    /// <summary>A node input slot reading a float tensor, and whether it needs it in float16.</summary>
    private sealed record Consumer(NodeProto Node, int Index, bool WantsFloat16);

    /// <summary>One run of the pass.</summary>
    private sealed class Conversion
    {
        private readonly ModelGraph _graph;
        private readonly Float16ConversionOptions _options;
        private readonly PassReport _report = new(PassName);
        private readonly Float16ConversionTypes _types;
        private readonly Dictionary<NodeProto, string> _blocked = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<TensorKey, List<Consumer>> _consumers = [];
        private readonly Dictionary<TensorKey, List<(GraphScope Scope, int Index)>> _subgraphOutputs = [];
        private readonly Dictionary<TensorKey, bool> _isFloat16 = [];
        private readonly Dictionary<TensorKey, bool> _overflows = [];
        private readonly long _opset;
        private int _casts;
        private int _clamped;

        public Conversion(ModelProto model, Float16ConversionOptions options)
        {
            _graph = new ModelGraph(model);
            _options = options;
            _types = Float16ConversionTypes.Infer(_graph);
            _opset = _graph.OpsetVersion(ModelGraph.DefaultDomain);
        }

        public PassReport Execute()
        {
            ClassifyNodes();
            CollectConsumers();
            List<TensorKey> floats = ChooseRepresentations();
            ConvertConstants(floats);
            ConvertNodeAttributes();
            foreach (TensorKey key in floats)
            {
                InsertCasts(key);
            }

            UpdateDeclaredTypes();
            _report.AddNote(_options.KeepIoTypes
                ? "keep_io_types: graph inputs and outputs stay float32, Cast nodes convert them inside the graph"
                : "graph inputs and outputs are float16: callers feed and read float16");
            _report.AddNote(string.Create(CultureInfo.InvariantCulture, $"{_casts} Cast node(s) inserted"));
            if (_clamped > 0)
            {
                _report.AddNote(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{_clamped} constant value(s) outside the float16 range clamped to ±{_options.MinPositiveValue:G3} / ±{_options.MaxFiniteValue:G5}"));
            }

            return _report;
        }

        private void ClassifyNodes()
        {
            foreach (GraphNode gn in _graph.AllNodes())
            {
                NodeProto node = gn.Node;
                if (node.OpType == "Constant" && ModelGraph.IsDefaultDomain(node.Domain))
                {
                    continue;
                }

                string? reason = BlockReason(node) ?? OverflowReason(gn.Graph, node);
                bool touchesFloat = node.Input.Concat(node.Output).Any(n => n.Length > 0 && _types.IsFloat(gn.Graph, n));
                if (reason is not null)
                {
                    _blocked[node] = reason;
                    if (touchesFloat)
                    {
                        string op = ModelGraph.IsDefaultDomain(node.Domain) ? node.OpType : $"{node.Domain}.{node.OpType}";
                        _report.AddSkipped(new SkippedNode(NodeLabels.Of(node), op, gn.Graph.Path, reason));
                    }
                }
                else if (touchesFloat)
                {
                    _report.NodesQuantized++;
                }
            }
        }

        private string? BlockReason(NodeProto node)
        {
            if (!ModelGraph.IsDefaultDomain(node.Domain))
            {
                return $"domain {node.Domain}: kept in float32";
            }

            if (_options.OpBlockList.Contains(node.OpType, StringComparer.Ordinal))
            {
                return "op type in op_block_list: kept in float32";
            }

            foreach (string pattern in _options.NodeBlockList)
            {
                if (NodeNameGlob.IsMatch(pattern, node.Name))
                {
                    return $"matches node_block_list '{pattern}': kept in float32";
                }
            }

            return null;
        }

        /// <summary>Why a node reading a constant that float16 cannot hold stays float32 (null when none does or the option is off).</summary>
        private string? OverflowReason(GraphScope scope, NodeProto node)
        {
            if (!_options.KeepOverflowingConstantsInFloat32)
            {
                return null;
            }

            foreach (string input in node.Input)
            {
                if (input.Length > 0 && _types.IsFloat(scope, input) && scope.FindConstant(input) is { } constant && Overflows(constant))
                {
                    return $"constant '{input}' has values beyond ±{_options.MaxFiniteValue.ToString(CultureInfo.InvariantCulture)}: kept in float32";
                }
            }

            return null;
        }

        private bool Overflows(ConstantTensor constant)
        {
            var key = new TensorKey(constant.Owner, constant.Name);
            if (!_overflows.TryGetValue(key, out bool overflows))
            {
                TensorProto? value = constant.Value;
                overflows = value is not null && !TensorData.IsExternal(value) && constant.DataType == TensorProto.Types.DataType.Float
                    && TensorData.ReadFloats(value).Any(v => float.IsFinite(v) && MathF.Abs(v) > _options.MaxFiniteValue);
                _overflows[key] = overflows;
            }

            return overflows;
        }

        private void CollectConsumers()
        {
            foreach (GraphScope scope in _graph.Graphs)
            {
                foreach (NodeProto node in scope.Graph.Node)
                {
                    bool blocked = _blocked.ContainsKey(node);
                    for (int i = 0; i < node.Input.Count; i++)
                    {
                        if (FloatKey(scope, node.Input[i]) is { } key)
                        {
                            Add(_consumers, key, new Consumer(node, i, !blocked && !IsFloatOnlyInput(node, i)));
                        }
                    }
                }

                if (scope.Parent is null)
                {
                    continue;
                }

                for (int i = 0; i < scope.Graph.Output.Count; i++)
                {
                    if (FloatKey(scope, scope.Graph.Output[i].Name) is { } key)
                    {
                        Add(_subgraphOutputs, key, (scope, i));
                    }
                }
            }
        }

        /// <summary>Inputs whose type is tensor(float) whatever the node's other types: Resize/Upsample scales.</summary>
        private bool IsFloatOnlyInput(NodeProto node, int index) => node.OpType switch
        {
            "Resize" => index == (_opset >= 11 ? 2 : 1),
            "Upsample" => index == 1,
            _ => false,
        };

        /// <summary>Decides for every float tensor whether it is float16 after conversion.</summary>
        private List<TensorKey> ChooseRepresentations()
        {
            var floats = new List<TensorKey>();
            foreach (GraphScope scope in _graph.Graphs)
            {
                foreach ((string name, int type) in _types.DefinedIn(scope))
                {
                    if (type != Float)
                    {
                        continue;
                    }

                    var key = new TensorKey(scope, name);
                    floats.Add(key);
                    _isFloat16[key] = ChooseRepresentation(key);
                }
            }

            return floats;
        }

        private bool ChooseRepresentation(TensorKey key)
        {
            (GraphScope scope, string name) = key;
            bool mainOutput = scope.Parent is null && scope.IsGraphOutput(name);
            if (scope.IsGraphInput(name))
            {
                return scope.Parent is not null || !_options.KeepIoTypes;
            }

            NodeProto? producer = scope.Producer(name);
            bool isConstant = scope.FindInitializer(name) is not null || producer is { OpType: "Constant" } && ModelGraph.IsDefaultDomain(producer.Domain);
            if (isConstant)
            {
                TensorProto? value = scope.FindConstant(name)?.Value;
                if (value is null || TensorData.IsExternal(value))
                {
                    _report.AddNote($"constant '{name}' is not in memory: kept in float32");
                    return false;
                }

                if (mainOutput)
                {
                    return !_options.KeepIoTypes;
                }

                if (_options.KeepOverflowingConstantsInFloat32 && _overflows.GetValueOrDefault(key))
                {
                    return false;
                }

                List<Consumer> consumers = _consumers.GetValueOrDefault(key) ?? [];

                // Float32 only for a constant that only float32 consumers read (the reference's default).
                return consumers.Count == 0 || consumers.Any(c => c.WantsFloat16) || _subgraphOutputs.ContainsKey(key);
            }

            return producer is not null && !_blocked.ContainsKey(producer);
        }

        private void ConvertConstants(List<TensorKey> floats)
        {
            foreach (TensorKey key in floats)
            {
                if (!_isFloat16[key])
                {
                    continue;
                }

                // An initializer that is also a graph input (an overridable default) follows the input's type.
                TensorProto? initializer = key.Scope.FindInitializer(key.Name);
                ConstantTensor? constant = key.Scope.FindConstant(key.Name);
                TensorProto? value = initializer ?? (constant?.Owner == key.Scope ? constant.Value : null);
                if (value is null || TensorData.IsExternal(value))
                {
                    continue;
                }

                TensorProto half = Float16ConversionValues.ToFloat16Tensor(value, _options.MinPositiveValue, _options.MaxFiniteValue, out int clamped);
                if (initializer is not null)
                {
                    key.Scope.Graph.Initializer[key.Scope.Graph.Initializer.IndexOf(initializer)] = half;
                }
                else
                {
                    ModelGraph.ReplaceConstant(constant!, half);
                }

                _clamped += clamped;
                _report.WeightsQuantized++;
                _report.ParametersQuantized += TensorData.ElementCount(half);
            }
        }

        /// <summary>Cast-to-float, dtype attributes and float tensor attributes of float16 nodes.</summary>
        private void ConvertNodeAttributes()
        {
            foreach (GraphNode gn in _graph.AllNodes())
            {
                NodeProto node = gn.Node;
                if (_blocked.ContainsKey(node) || node.OpType == "Constant" || !ModelGraph.IsDefaultDomain(node.Domain))
                {
                    continue;
                }

                foreach (AttributeProto attribute in node.Attribute)
                {
                    if ((attribute.Name == "to" && node.OpType == "Cast") || attribute.Name == "dtype")
                    {
                        if (attribute.I == Float)
                        {
                            attribute.I = Float16;
                        }
                    }
                    else if (attribute.T is { DataType: Float } t)
                    {
                        attribute.T = ConvertAttributeTensor(t);
                    }

                    for (int i = 0; i < attribute.Tensors.Count; i++)
                    {
                        if (attribute.Tensors[i].DataType == Float)
                        {
                            attribute.Tensors[i] = ConvertAttributeTensor(attribute.Tensors[i]);
                        }
                    }
                }

                if (node.OpType == "ConstantOfShape" && node.Attribute.All(a => a.Name != "value"))
                {
                    // The default value is float32 zero; a float16 graph needs a float16 zero.
                    node.Attribute.Add(new AttributeProto
                    {
                        Name = "value",
                        Type = AttributeProto.Types.AttributeType.Tensor,
                        T = TensorData.Create(string.Empty, [1], TensorProto.Types.DataType.Float16, [0, 0]),
                    });
                }
            }
        }

        private TensorProto ConvertAttributeTensor(TensorProto tensor)
        {
            TensorProto half = Float16ConversionValues.ToFloat16Tensor(tensor, _options.MinPositiveValue, _options.MaxFiniteValue, out int clamped);
            _clamped += clamped;
            return half;
        }

        /// <summary>Adds Cast nodes where consumers need the other precision than the tensor has.</summary>
        private void InsertCasts(TensorKey key)
        {
            (GraphScope scope, string name) = key;
            bool half = _isFloat16[key];
            List<Consumer> consumers = _consumers.GetValueOrDefault(key) ?? [];
            List<(GraphScope Scope, int Index)> subgraphOutputs = _subgraphOutputs.GetValueOrDefault(key) ?? [];
            NodeProto? producer = scope.Producer(name);
            bool mainOutput = scope.Parent is null && scope.IsGraphOutput(name);
            bool outputHalf = !_options.KeepIoTypes;
            if (mainOutput && outputHalf != half && producer is not null)
            {
                // The interface name must carry the output's precision: the producer writes a new
                // name and a Cast produces the output name.
                string native = _graph.UniqueName(name + (half ? "_fp16" : "_fp32"));
                producer.Output[producer.Output.IndexOf(name)] = native;
                foreach (Consumer c in consumers.Where(c => c.WantsFloat16 == half))
                {
                    c.Node.Input[c.Index] = native;
                }

                foreach ((GraphScope s, int i) in subgraphOutputs.Where(_ => half))
                {
                    RenameOutput(s, i, native);
                }

                _graph.InsertAfter(scope, producer, [CastNode(native, name, outputHalf)]);
                _isFloat16[new TensorKey(scope, native)] = half;
                _isFloat16[key] = outputHalf;
                return;
            }

            var mismatched = consumers.Where(c => c.WantsFloat16 != half).ToList();
            var outputs = subgraphOutputs.Where(_ => !half).ToList();
            if (mismatched.Count == 0 && outputs.Count == 0)
            {
                return;
            }

            string cast = _graph.UniqueName(name + (half ? "_fp32" : "_fp16"));
            NodeProto castNode = CastNode(name, cast, !half);
            if (producer is not null)
            {
                _graph.InsertAfter(scope, producer, [castNode]);
            }
            else
            {
                scope.Graph.Node.Insert(0, castNode);
            }

            foreach (Consumer c in mismatched)
            {
                c.Node.Input[c.Index] = cast;
            }

            foreach ((GraphScope s, int i) in outputs)
            {
                RenameOutput(s, i, cast);
            }
        }

        private static void RenameOutput(GraphScope scope, int index, string name)
        {
            ValueInfoProto output = scope.Graph.Output[index];
            output.Name = name;
            if (output.Type?.TensorType is { } tensor)
            {
                tensor.ElemType = Float16;
            }
        }

        private NodeProto CastNode(string input, string output, bool toFloat16)
        {
            NodeProto cast = _graph.CreateNode("Cast", _graph.UniqueName(output + "_Cast"), [input], [output]);
            cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = toFloat16 ? Float16 : Float });
            _casts++;
            return cast;
        }

        /// <summary>Float value_info, graph inputs and outputs of tensors that are now float16 say so.</summary>
        private void UpdateDeclaredTypes()
        {
            foreach (GraphScope scope in _graph.Graphs)
            {
                GraphProto g = scope.Graph;
                foreach (ValueInfoProto v in g.Input.Concat(g.Output).Concat(g.ValueInfo))
                {
                    if (v.Type?.TensorType is not { ElemType: Float } tensor)
                    {
                        continue;
                    }

                    GraphScope? owner = _types.DefiningScope(scope, v.Name) ?? (scope.DefinesName(v.Name) ? scope : null);
                    if (owner is not null && _isFloat16.TryGetValue(new TensorKey(owner, v.Name), out bool half) && half)
                    {
                        tensor.ElemType = Float16;
                    }
                }
            }
        }

        private TensorKey? FloatKey(GraphScope scope, string name)
        {
            if (name.Length == 0)
            {
                return null;
            }

            GraphScope? owner = _types.DefiningScope(scope, name);
            return owner is not null && _types.IsFloat(owner, name) ? new TensorKey(owner, name) : null;
        }

        private static void Add<T>(Dictionary<TensorKey, List<T>> map, TensorKey key, T value)
        {
            if (!map.TryGetValue(key, out List<T>? list))
            {
                map[key] = list = [];
            }

            list.Add(value);
        }
    }
}
