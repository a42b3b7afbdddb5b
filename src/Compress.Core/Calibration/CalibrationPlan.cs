using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Calibration;

/// <summary>
/// Which tensors a calibration looks at: float graph inputs (read from the batches), main-graph node
/// outputs (made graph outputs of the model copy ORT runs), subgraph tensors (not reachable, reported),
/// and the conditions of main-graph <c>If</c> nodes (to tell which branch ran).
/// </summary>
internal sealed class CalibrationPlan
{
    private CalibrationPlan(bool explicitNames) => ExplicitNames = explicitNames;

    /// <summary>True when the caller named the tensors (a non-float one is then reported, not dropped).</summary>
    public bool ExplicitNames { get; }

    /// <summary>Float graph inputs fed by the data.</summary>
    public List<string> GraphInputs { get; } = [];

    /// <summary>Main-graph tensors produced by non-Constant nodes; their types are known only once ORT has loaded the model.</summary>
    public List<string> NodeOutputs { get; } = [];

    /// <summary>Tensors produced inside subgraphs, with their graph.</summary>
    public List<(string Name, GraphScope Scope)> SubgraphTensors { get; } = [];

    /// <summary>Tensors already known to get no range (constants, unknown or non-float names).</summary>
    public List<UncalibratedTensor> Uncalibrated { get; } = [];

    public List<BranchWatch> Branches { get; } = [];

    public static CalibrationPlan Build(ModelGraph graph, IReadOnlyList<DeclaredInput> inputs, IReadOnlyList<string> fedInputs, IReadOnlyList<string>? tensorNames)
    {
        var plan = new CalibrationPlan(tensorNames is not null);
        GraphScope main = graph.Main;
        var fed = new HashSet<string>(fedInputs, StringComparer.Ordinal);
        Dictionary<string, DeclaredInput> declared = inputs.ToDictionary(i => i.Name, StringComparer.Ordinal);
        plan.WatchBranches(main, fed);

        if (tensorNames is null)
        {
            plan.GraphInputs.AddRange(inputs.Where(i => fed.Contains(i.Name) && IsFloat(i.ElementType)).Select(i => i.Name));
            var seen = new HashSet<string>(plan.GraphInputs, StringComparer.Ordinal);
            foreach (NodeProto node in main.Graph.Node.Where(n => !IsConstantNode(n)))
            {
                plan.NodeOutputs.AddRange(node.Output.Where(o => o.Length > 0 && seen.Add(o)));
            }

            foreach (GraphScope scope in graph.Graphs.Where(g => g.Depth > 0))
            {
                foreach (NodeProto node in scope.Graph.Node.Where(n => !IsConstantNode(n)))
                {
                    plan.SubgraphTensors.AddRange(node.Output.Where(o => o.Length > 0 && seen.Add(o)).Select(o => (o, scope)));
                }
            }

            return plan;
        }

        foreach (string name in tensorNames.Distinct(StringComparer.Ordinal))
        {
            plan.Classify(graph, name, declared, fed);
        }

        return plan;
    }

    /// <summary>Why a subgraph tensor has no range: its branch never ran, or subgraphs cannot be reached.</summary>
    public UncalibratedTensor Explain(string name, GraphScope scope)
    {
        GraphScope top = scope;
        while (top.Depth > 1)
        {
            top = top.Parent!;
        }

        BranchWatch? watch = Branches.FirstOrDefault(b => b.Node == top.OwnerNode);
        if (watch is not null && top.AttributeName is string attribute && watch.NeverRan(attribute))
        {
            string value = attribute == "then_branch" ? "false" : "true";
            return new UncalibratedTensor(
                name,
                UncalibratedReason.BranchNeverRan,
                $"in {scope.Path}, a branch of If '{watch.Label}' that never ran on the calibration data (condition '{watch.Condition}' was always {value}).");
        }

        return new UncalibratedTensor(
            name,
            UncalibratedReason.InsideSubgraph,
            $"in subgraph {scope.Path}; ONNX Runtime can only return tensors of the main graph.");
    }

    private void Classify(ModelGraph graph, string name, Dictionary<string, DeclaredInput> declared, HashSet<string> fed)
    {
        GraphScope main = graph.Main;
        if (declared.TryGetValue(name, out DeclaredInput? input) && fed.Contains(name))
        {
            if (IsFloat(input.ElementType))
            {
                GraphInputs.Add(name);
            }
            else
            {
                Uncalibrated.Add(new UncalibratedTensor(name, UncalibratedReason.NotFloat, $"a {ElementConversion.Name(input.ElementType)} model input, not a float tensor."));
            }

            return;
        }

        if (main.FindConstant(name) is not null || main.FindInitializer(name) is not null)
        {
            Uncalibrated.Add(new UncalibratedTensor(name, UncalibratedReason.Constant, "a constant (initializer or Constant node); weights are not calibrated."));
            return;
        }

        if (main.Producer(name) is not null)
        {
            NodeOutputs.Add(name);
            return;
        }

        GraphScope? scope = graph.Graphs.FirstOrDefault(g => g.Depth > 0 && g.Producer(name) is not null);
        if (scope is not null)
        {
            SubgraphTensors.Add((name, scope));
            return;
        }

        Uncalibrated.Add(new UncalibratedTensor(name, UncalibratedReason.NotFound, "no node of the model produces it and no model input has this name."));
    }

    private void WatchBranches(GraphScope main, HashSet<string> fed)
    {
        foreach (NodeProto node in main.Graph.Node)
        {
            if (node.OpType != "If" || !ModelGraph.IsDefaultDomain(node.Domain) || node.Input.Count == 0)
            {
                continue;
            }

            string condition = node.Input[0];
            if (fed.Contains(condition))
            {
                Branches.Add(new BranchWatch(node, condition, conditionIsGraphInput: true));
            }
            else if (main.Producer(condition) is NodeProto producer && !IsConstantNode(producer))
            {
                Branches.Add(new BranchWatch(node, condition, conditionIsGraphInput: false));
            }
        }
    }

    public static bool IsFloat(TensorElementType type) => type is TensorElementType.Float or TensorElementType.Float16;

    private static bool IsConstantNode(NodeProto node) => node.OpType == "Constant" && ModelGraph.IsDefaultDomain(node.Domain);
}
