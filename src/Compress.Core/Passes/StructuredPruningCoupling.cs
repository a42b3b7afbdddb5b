using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>A group-1 Conv whose output channels must follow a pruned layer's (a squeeze-excitation gate multiplied with it).</summary>
/// <param name="Node">The Conv.</param>
/// <param name="Weight">Its weight; its rows are the output channels.</param>
/// <param name="Bias">Its per-channel bias and the axis holding the channels, when it has one.</param>
internal sealed record StructuredPruningCoupling(NodeProto Node, MagnitudePruningWeight Weight, (ConstantTensor Constant, int Axis)? Bias);
