using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Folds Add(conv_out, c) into the Conv/ConvTranspose bias when c is a per-output-channel constant
/// ([M], [M,1,…] or [1,M,1,…], or a single value) and the Add is the Conv's only reader. Exporters
/// such as paddle2onnx write ConvTranspose bias this way, which also hides the Conv from a
/// following BatchNormalization.
/// </summary>
internal static class GraphCleanupBiasAdd
{
    /// <summary>Folds <paramref name="add"/> when the pattern allows; returns true when folded.</summary>
    public static bool TryFold(ModelGraph graph, GraphScope scope, NodeProto add)
    {
        if (add.Input.Count != 2 || add.Output.Count != 1)
        {
            return false;
        }

        for (int side = 0; side < 2; side++)
        {
            string convOut = add.Input[side];
            string other = add.Input[1 - side];
            NodeProto? conv = scope.Producer(convOut);
            if (conv is null || !ModelGraph.IsDefaultDomain(conv.Domain) || conv.OpType is not ("Conv" or "ConvTranspose") || conv.Output.Count != 1
                || scope.IsGraphOutput(convOut) || graph.FindUses(scope, convOut).Count != 1)
            {
                continue;
            }

            if (scope.FindConstant(conv.Input.Count > 1 ? conv.Input[1] : string.Empty)?.Value is not { } weight || weight.Dims.Count < 3
                || scope.FindConstant(other) is not { DataType: TensorProto.Types.DataType.Float } constant || constant.Value is not { } value || TensorData.IsExternal(value))
            {
                continue;
            }

            long channels = conv.OpType == "Conv" ? weight.Dims[0] : weight.Dims[1] * ModelGraph.GetInt(conv, "group", 1);
            if (!IsPerChannel([.. value.Dims], weight.Dims.Count, channels))
            {
                continue;
            }

            float[] addend = TensorData.ReadFloats(value);
            string biasName = conv.Input.Count > 2 ? conv.Input[2] : string.Empty;
            float[] bias;
            if (biasName.Length == 0)
            {
                bias = new float[channels];
            }
            else if (scope.FindConstant(biasName)?.Value is { DataType: (int)TensorProto.Types.DataType.Float } b && !TensorData.IsExternal(b) && TensorData.ElementCount(b) == channels)
            {
                bias = TensorData.ReadFloats(b);
            }
            else
            {
                continue;
            }

            float[] merged = bias.Select((v, i) => v + addend[addend.Length == 1 ? 0 : i]).ToArray();
            string name = graph.UniqueName((biasName.Length > 0 ? biasName : conv.Output[0]) + "_with_add");
            graph.AddConstant(scope, TensorData.CreateFloat(name, [channels], merged));
            while (conv.Input.Count < 3)
            {
                conv.Input.Add(string.Empty);
            }

            conv.Input[2] = name;
            conv.Output[0] = add.Output[0];
            graph.RemoveNode(scope, add);
            return true;
        }

        return false;
    }

    /// <summary>True for shapes that broadcast only along the channel axis 1 of a rank-<paramref name="rank"/> output.</summary>
    private static bool IsPerChannel(long[] dims, int rank, long channels)
    {
        if (dims.Length > rank)
        {
            return false;
        }

        long[] padded = [.. Enumerable.Repeat(1L, rank - dims.Length), .. dims];
        return padded.Select((d, axis) => axis == 1 ? d == channels || d == 1 : d == 1).All(ok => ok);
    }
}
