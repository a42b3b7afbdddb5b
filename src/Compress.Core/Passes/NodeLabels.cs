using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>How reports name a node: its name, or for an unnamed node its op type and first output.</summary>
internal static class NodeLabels
{
    public static string Of(NodeProto node) => node.Name.Length > 0 ? node.Name : $"(unnamed {node.OpType} -> {node.Output.FirstOrDefault()})";
}
