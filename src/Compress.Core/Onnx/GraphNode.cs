using Compress.Core.Onnx.Proto;

namespace Compress.Core.Onnx;

/// <summary>A node together with the graph (main graph or subgraph) that holds it.</summary>
/// <param name="Graph">The graph whose <c>node</c> list contains <paramref name="Node"/>.</param>
/// <param name="Node">The node.</param>
public readonly record struct GraphNode(GraphScope Graph, NodeProto Node);
