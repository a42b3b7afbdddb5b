using Compress.Core.Calibration;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Compress.Core.Passes;

/// <summary>
/// Shapes of some tensors, read from one run of the model on the first calibration sample, so that the multiply-adds of
/// the layers structured pruning shrinks can be counted (see <see cref="StructuredPruningCompute"/>).
/// </summary>
internal static class StructuredPruningPositions
{
    public static Dictionary<string, long[]> Measure(ModelProto model, IEnumerable<string> tensors, CalibrationDataSet data)
    {
        string[] names = [.. tensors.Distinct(StringComparer.Ordinal)];
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        try
        {
            using OrtModelSession session = OrtModelSession.OpenExposing(model, names);
            using CalibrationBatch batch = data.ReadBatches(1).First();
            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> outputs = session.Session.Run(run, batch.InputNames, batch.Values, names);
            for (int i = 0; i < names.Length; i++)
            {
                shapes[names[i]] = outputs[i].GetTensorTypeAndShape().Shape;
            }
        }
        catch (OnnxRuntimeException e)
        {
            throw new CompressException(DiagnosticCodes.PassFailed, $"Structured pruning: ONNX Runtime cannot measure the layer sizes for the global allocation: {e.Message}", inner: e);
        }

        return shapes;
    }

    /// <summary>Tensors whose shapes <see cref="StructuredPruningCompute"/> reads.</summary>
    public static IEnumerable<string> Outputs(MagnitudePruningWeight weight, StructuredPruningPlan plan) =>
        [weight.Nodes[0].Node.Output[0], .. plan.Depthwise.Select(d => d.Output[0]), .. plan.Coupled.Select(c => c.Node.Output[0]), .. plan.Sinks.Select(s => s.Nodes[0].Node.Output[0]), .. plan.Tensors];

    /// <summary>Output positions per sample: H × W… of a Conv, 1 for a Gemm, the rows of a MatMul.</summary>
    public static long Positions(NodeProto node, IReadOnlyDictionary<string, long[]> shapes) => Positions(shapes[node.Output[0]], node.OpType == "MatMul");

    /// <summary>Positions of a tensor: what follows the channel axis of [N, C, …] (1 for [N, F]), or all but the first and last axis for MatMul's [..., F].</summary>
    public static long Positions(long[] shape, bool lastAxis) =>
        lastAxis ? shape[1..^1].Aggregate(1L, (a, b) => a * b)
            : shape.Length >= 3 ? shape[2..].Aggregate(1L, (a, b) => a * b)
            : 1;
}
