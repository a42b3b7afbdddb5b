using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>
/// Visits every graph and every tensor of a model, including the places a pass that only reads
/// <c>graph.initializer</c> misses: Constant-node attributes, sparse initializers, subgraphs of
/// If/Loop/Scan (recursively), function bodies and training-info graphs.
/// </summary>
public static class OnnxModelWalker
{
    /// <summary>The main graph, every subgraph held in node attributes (depth first), then training-info graphs.</summary>
    public static IEnumerable<GraphProto> Graphs(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<GraphProto>();
        if (model.Graph is not null)
        {
            CollectGraphs(model.Graph, result);
        }

        foreach (FunctionProto function in model.Functions)
        {
            foreach (NodeProto node in function.Node)
            {
                CollectSubgraphs(node.Attribute, result);
            }

            CollectSubgraphs(function.AttributeProto, result);
        }

        foreach (TrainingInfoProto info in model.TrainingInfo)
        {
            if (info.Initialization is not null)
            {
                CollectGraphs(info.Initialization, result);
            }

            if (info.Algorithm is not null)
            {
                CollectGraphs(info.Algorithm, result);
            }
        }

        return result;
    }

    /// <summary>Every tensor of the model in a fixed order (the order files are written in).</summary>
    public static IReadOnlyList<OnnxTensorSite> Tensors(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<OnnxTensorSite>();
        if (model.Graph is not null)
        {
            VisitGraph(model.Graph, $"graph '{model.Graph.Name}'", result);
        }

        foreach (FunctionProto function in model.Functions)
        {
            string where = $"function '{function.Domain}:{function.Name}'";
            foreach (NodeProto node in function.Node)
            {
                VisitNode(node, where, result);
            }

            foreach (AttributeProto attribute in function.AttributeProto)
            {
                VisitAttribute(attribute, $"default of attribute '{attribute.Name}' of {where}", result);
            }
        }

        for (int i = 0; i < model.TrainingInfo.Count; i++)
        {
            TrainingInfoProto info = model.TrainingInfo[i];
            if (info.Initialization is not null)
            {
                VisitGraph(info.Initialization, $"training_info[{i}].initialization", result);
            }

            if (info.Algorithm is not null)
            {
                VisitGraph(info.Algorithm, $"training_info[{i}].algorithm", result);
            }
        }

        return result;
    }

    private static void CollectGraphs(GraphProto graph, List<GraphProto> result)
    {
        result.Add(graph);
        foreach (NodeProto node in graph.Node)
        {
            CollectSubgraphs(node.Attribute, result);
        }
    }

    private static void CollectSubgraphs(IEnumerable<AttributeProto> attributes, List<GraphProto> result)
    {
        foreach (AttributeProto attribute in attributes)
        {
            if (attribute.G is not null)
            {
                CollectGraphs(attribute.G, result);
            }

            foreach (GraphProto graph in attribute.Graphs)
            {
                CollectGraphs(graph, result);
            }
        }
    }

    private static void VisitGraph(GraphProto graph, string where, List<OnnxTensorSite> result)
    {
        foreach (TensorProto initializer in graph.Initializer)
        {
            result.Add(new(initializer, $"initializer '{initializer.Name}' of {where}"));
        }

        foreach (SparseTensorProto sparse in graph.SparseInitializer)
        {
            VisitSparse(sparse, $"sparse initializer '{sparse.Values?.Name}' of {where}", result);
        }

        foreach (NodeProto node in graph.Node)
        {
            VisitNode(node, where, result);
        }
    }

    private static void VisitNode(NodeProto node, string where, List<OnnxTensorSite> result)
    {
        string nodeName = node.Name.Length > 0 ? node.Name : $"({node.OpType} -> {string.Join(",", node.Output)})";
        foreach (AttributeProto attribute in node.Attribute)
        {
            VisitAttribute(attribute, $"attribute '{attribute.Name}' of node '{nodeName}' in {where}", result);
        }
    }

    private static void VisitAttribute(AttributeProto attribute, string where, List<OnnxTensorSite> result)
    {
        if (attribute.T is not null)
        {
            result.Add(new(attribute.T, TensorWhere(attribute.T, where)));
        }

        foreach (TensorProto tensor in attribute.Tensors)
        {
            result.Add(new(tensor, TensorWhere(tensor, where)));
        }

        if (attribute.SparseTensor is not null)
        {
            VisitSparse(attribute.SparseTensor, where, result);
        }

        foreach (SparseTensorProto sparse in attribute.SparseTensors)
        {
            VisitSparse(sparse, where, result);
        }

        if (attribute.G is not null)
        {
            VisitGraph(attribute.G, $"subgraph '{attribute.G.Name}' ({where})", result);
        }

        foreach (GraphProto graph in attribute.Graphs)
        {
            VisitGraph(graph, $"subgraph '{graph.Name}' ({where})", result);
        }
    }

    private static void VisitSparse(SparseTensorProto sparse, string where, List<OnnxTensorSite> result)
    {
        if (sparse.Values is not null)
        {
            result.Add(new(sparse.Values, $"values of {where}"));
        }

        if (sparse.Indices is not null)
        {
            result.Add(new(sparse.Indices, $"indices of {where}"));
        }
    }

    private static string TensorWhere(TensorProto tensor, string where) =>
        tensor.Name.Length > 0 ? $"tensor '{tensor.Name}' ({where})" : where;
}
