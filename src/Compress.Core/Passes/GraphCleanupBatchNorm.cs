using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv (or ConvTranspose) that alone feeds
/// it: with s = gamma / sqrt(var + eps) per output channel, W' = W · s and b' = (b − mean) · s + beta.
/// The folded weight and bias are new constants (the old ones may be shared); unused ones are
/// removed later by the clean-up's sweep.
/// </summary>
internal static class GraphCleanupBatchNorm
{
    /// <summary>Folds <paramref name="bn"/> when the pattern and constants allow; returns true when folded.</summary>
    public static bool TryFold(ModelGraph graph, GraphScope scope, NodeProto bn)
    {
        if (bn.Input.Count < 5 || bn.Output.Count < 1 || ModelGraph.GetInt(bn, "training_mode", 0) != 0 || ModelGraph.GetInt(bn, "spatial", 1) != 1)
        {
            return false;
        }

        // Running-mean/var outputs (training forms) must be absent or unread.
        if (bn.Output.Skip(1).Any(o => o.Length > 0 && graph.IsUsed(scope, o)))
        {
            return false;
        }

        string x = bn.Input[0];
        NodeProto? conv = scope.Producer(x);
        if (conv is null || !ModelGraph.IsDefaultDomain(conv.Domain) || conv.OpType is not ("Conv" or "ConvTranspose") || conv.Output.Count != 1)
        {
            return false;
        }

        if (scope.IsGraphOutput(x) || graph.FindUses(scope, x).Count != 1)
        {
            return false;
        }

        float[]? w = FloatConstant(scope, conv.Input.Count > 1 ? conv.Input[1] : string.Empty, out long[] wDims);
        if (w is null || wDims.Length < 3)
        {
            return false;
        }

        bool transpose = conv.OpType == "ConvTranspose";
        long group = ModelGraph.GetInt(conv, "group", 1);
        long channels = transpose ? wDims[1] * group : wDims[0];
        float[]? gamma = FloatConstant(scope, bn.Input[1], out _);
        float[]? beta = FloatConstant(scope, bn.Input[2], out _);
        float[]? mean = FloatConstant(scope, bn.Input[3], out _);
        float[]? variance = FloatConstant(scope, bn.Input[4], out _);
        string biasName = conv.Input.Count > 2 ? conv.Input[2] : string.Empty;
        float[]? bias = biasName.Length > 0 ? FloatConstant(scope, biasName, out _) : new float[channels];
        if (gamma is null || beta is null || mean is null || variance is null || bias is null
            || new[] { gamma, beta, mean, variance, bias }.Any(a => a.Length != channels))
        {
            return false;
        }

        double epsilon = ModelGraph.GetFloat(bn, "epsilon", 1e-5f);
        var factor = new double[channels];
        var folded = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            factor[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
            folded[c] = (float)(((bias[c] - (double)mean[c]) * factor[c]) + beta[c]);
        }

        float[] scaled = ScaleWeight(w, wDims, factor, transpose, group);
        string weightName = graph.UniqueName(conv.Input[1] + "_bn_folded");
        string newBias = graph.UniqueName((biasName.Length > 0 ? biasName : conv.Output[0]) + "_bn_folded_bias");
        graph.AddConstant(scope, TensorData.CreateFloat(weightName, wDims, scaled));
        graph.AddConstant(scope, TensorData.CreateFloat(newBias, [channels], folded));
        conv.Input[1] = weightName;
        if (conv.Input.Count > 2)
        {
            conv.Input[2] = newBias;
        }
        else
        {
            conv.Input.Add(newBias);
        }

        conv.Output[0] = bn.Output[0];
        graph.RemoveNode(scope, bn);
        return true;
    }

    /// <summary>Multiplies each output channel of the weight by its factor (Conv: axis 0; ConvTranspose: axis 1 within each group).</summary>
    private static float[] ScaleWeight(float[] w, long[] dims, double[] factor, bool transpose, long group)
    {
        var result = new float[w.Length];
        long inner = dims.Skip(2).Aggregate(1L, (a, b) => a * b);
        long d1 = dims[1];
        long inputsPerGroup = dims[0] / group;
        for (long i = 0; i < w.Length; i++)
        {
            long a0 = i / (d1 * inner);
            long a1 = i / inner % d1;
            long channel = transpose ? (a0 / inputsPerGroup * d1) + a1 : a0;
            result[i] = (float)(w[i] * factor[channel]);
        }

        return result;
    }

    private static float[]? FloatConstant(GraphScope scope, string name, out long[] dims)
    {
        dims = [];
        if (name.Length == 0 || scope.FindConstant(name) is not { } constant || constant.Value is not { } value
            || TensorData.IsExternal(value) || constant.DataType != TensorProto.Types.DataType.Float)
        {
            return null;
        }

        dims = value.Dims.ToArray();
        return TensorData.ReadFloats(value);
    }
}
