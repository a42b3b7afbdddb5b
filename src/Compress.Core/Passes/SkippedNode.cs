namespace Compress.Core.Passes;

/// <summary>A node a pass looked at and left unchanged, with the reason.</summary>
/// <param name="Node">The node name (or its first output when the node has no name).</param>
/// <param name="OpType">The node's operator, domain-qualified outside the default domain.</param>
/// <param name="Graph">The graph holding the node (<c>main</c> or a subgraph path).</param>
/// <param name="Reason">Why the node was skipped, in words.</param>
public sealed record SkippedNode(string Node, string OpType, string Graph, string Reason);
