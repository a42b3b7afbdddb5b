using Compress.Core.Calibration;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Passes;

/// <summary>
/// Activation-based choice of the channels a layer keeps: the ones the layers reading them need most to
/// reproduce their original outputs. For every consuming layer (sink) the normal equations of
/// "sink output ≈ sink input · W + b" are accumulated on calibration data from the original model; then
/// channels are removed one at a time, each time the one whose removal raises the least-squares error of
/// all sinks the least (group Optimal Brain Surgeon: ΔE = Σ wᵀ H_BB⁻¹ w over the channel's block of
/// inputs, H the inverse of the damped Gram matrix), and H and W are updated as if the remaining inputs
/// were refitted. This is what reconstruction will do afterwards, so the choice anticipates the refit,
/// where a weight norm cannot see that two channels carry the same information or that a small-weight
/// channel is large in the activations.
/// </summary>
internal static class StructuredPruningSelection
{
    /// <summary>Sinks with more unknowns than this fall back to the weight norm (an O(n³) inverse each).</summary>
    public const int MaxUnknowns = 4096;

    /// <summary>
    /// The greedy removal order of the layer's channels down to <paramref name="keep"/> and, after each removal, the
    /// least-squares error of all sinks relative to their original output energy; null with a reason when a sink
    /// cannot be measured in the original model.
    /// </summary>
    public static StructuredPruningCurve? Curve(ModelProto original, IReadOnlyList<MagnitudePruningWeight> sinks, int channels, int keep, CalibrationDataSet data, ReconstructionOptions options, out string? reason)
    {
        reason = null;
        var teacherGraph = new ModelGraph(original);
        var states = new List<SinkState>();
        foreach (MagnitudePruningWeight sink in sinks)
        {
            NodeProto node = sink.Nodes[0].Node;
            string label = MagnitudePruningWeight.NodeLabel(node);
            GraphNode? teacherNode = teacherGraph.AllNodes().Where(t => t.Graph == teacherGraph.Main && t.Node.OpType == node.OpType && MagnitudePruningWeight.NodeLabel(t.Node) == label).Select(t => (GraphNode?)t).FirstOrDefault();
            MagnitudePruningWeight? teacherWeight = teacherNode is { } t ? MagnitudePruningWeight.Resolve(teacherGraph, t, out _) : null;
            if (teacherWeight is null || teacherWeight.Columns != sink.Columns || sink.Columns % channels != 0 || (node.OpType == "Conv" && teacherWeight.Constant.Dims.Count != 4))
            {
                reason = $"{node.OpType} {label} reading the channels has no matching 2-D layer in the original model";
                return null;
            }

            if (teacherWeight.Columns + 1 > MaxUnknowns)
            {
                reason = $"{node.OpType} {label} has {teacherWeight.Columns} inputs per output, more than {MaxUnknowns - 1} for the activation-based choice";
                return null;
            }

            states.Add(SinkState.Measure(original, teacherNode!.Value.Node, teacherWeight, channels, data, options));
        }

        if (states.Count == 0)
        {
            reason = "no layer reads its channels";
            return null;
        }

        double energy = Math.Max(states.Sum(s => s.Energy), double.Epsilon);
        var alive = new HashSet<int>(Enumerable.Range(0, channels));
        var removed = new List<int>();
        var errors = new List<double>();
        double error = 0;
        while (alive.Count > keep)
        {
            int best = -1;
            double bestCost = double.PositiveInfinity;
            foreach (int c in alive.Order())
            {
                double cost = states.Sum(s => s.RemovalCost(c));
                if (cost < bestCost)
                {
                    bestCost = cost;
                    best = c;
                }
            }

            foreach (SinkState s in states)
            {
                s.Remove(best);
            }

            alive.Remove(best);
            removed.Add(best);
            error += Math.Max(0, bestCost);
            errors.Add(error / energy);
        }

        return new StructuredPruningCurve(channels, [.. removed], [.. errors]);
    }

    /// <summary>One sink's inverse damped Gram matrix H and its least-squares weights W (unknowns × outputs), updated as channels go.</summary>
    private sealed class SinkState
    {
        private readonly double[] _h;
        private readonly double[] _w;
        private readonly int _size;
        private readonly int _outputs;
        private readonly int _block;

        private SinkState(double[] h, double[] w, int size, int outputs, int block, double energy)
        {
            Energy = energy;
            _h = h;
            _w = w;
            _size = size;
            _outputs = outputs;
            _block = block;
        }

        public static SinkState Measure(ModelProto original, NodeProto node, MagnitudePruningWeight weight, int channels, CalibrationDataSet data, ReconstructionOptions options)
        {
            int outputs = weight.Rows;
            int[] all = [.. Enumerable.Range(0, outputs)];
            // Reconstruction refits a bias only where the sink has one, so only then may a constant channel be dropped for free.
            bool withBias = node.Input.Count > 2 && node.Input[2].Length > 0;
            ReconstructionSystem system = Reconstruction.Accumulate(node, weight, (original, node.Input[0]), (original, node.Output[0]), all, withBias, data, options);

            int size = system.Size;
            double lambda = options.Damping * system.MeanDiagonal();
            var g = new double[(long)size * size];
            for (int i = 0; i < size; i++)
            {
                for (int j = 0; j < size; j++)
                {
                    g[((long)i * size) + j] = system.Gram(i, j);
                }

                g[((long)i * size) + i] += lambda;
            }

            double[] h = Invert(g, size);
            var w = new double[(long)size * outputs];
            for (int i = 0; i < size; i++)
            {
                for (int o = 0; o < outputs; o++)
                {
                    double s = 0;
                    for (int k = 0; k < size; k++)
                    {
                        s += h[((long)i * size) + k] * system.Cross(o, k);
                    }

                    w[((long)i * outputs) + o] = s;
                }
            }

            return new SinkState(h, w, size, outputs, weight.Columns / channels, system.TargetEnergy);
        }

        /// <summary>‖y‖² of the sink's original outputs on the calibration data.</summary>
        public double Energy { get; }

        /// <summary>ΔE of removing channel <paramref name="channel"/>: Σ over outputs of w_Bᵀ (H_BB)⁻¹ w_B.</summary>
        public double RemovalCost(int channel)
        {
            int first = channel * _block;
            double[] m = BlockInverse(first);
            double cost = 0;
            var wb = new double[_block];
            for (int o = 0; o < _outputs; o++)
            {
                for (int p = 0; p < _block; p++)
                {
                    wb[p] = _w[((long)(first + p) * _outputs) + o];
                }

                for (int p = 0; p < _block; p++)
                {
                    for (int q = 0; q < _block; q++)
                    {
                        cost += wb[p] * m[(p * _block) + q] * wb[q];
                    }
                }
            }

            return cost;
        }

        /// <summary>Removes the channel's inputs: W −= H_:B H_BB⁻¹ W_B, H −= H_:B H_BB⁻¹ H_B:.</summary>
        public void Remove(int channel)
        {
            int first = channel * _block;
            double[] m = BlockInverse(first);
            var k = new double[(long)_size * _block];
            for (int i = 0; i < _size; i++)
            {
                for (int q = 0; q < _block; q++)
                {
                    double s = 0;
                    for (int p = 0; p < _block; p++)
                    {
                        s += _h[((long)i * _size) + first + p] * m[(p * _block) + q];
                    }

                    k[((long)i * _block) + q] = s;
                }
            }

            var wb = new double[(long)_block * _outputs];
            Array.Copy(_w, (long)first * _outputs, wb, 0, wb.Length);
            var hb = new double[(long)_block * _size];
            Array.Copy(_h, (long)first * _size, hb, 0, hb.Length);
            for (int i = 0; i < _size; i++)
            {
                for (int q = 0; q < _block; q++)
                {
                    double kq = k[((long)i * _block) + q];
                    if (kq == 0)
                    {
                        continue;
                    }

                    for (int o = 0; o < _outputs; o++)
                    {
                        _w[((long)i * _outputs) + o] -= kq * wb[((long)q * _outputs) + o];
                    }

                    for (int j = 0; j < _size; j++)
                    {
                        _h[((long)i * _size) + j] -= kq * hb[((long)q * _size) + j];
                    }
                }
            }
        }

        private double[] BlockInverse(int first)
        {
            var m = new double[_block * _block];
            for (int p = 0; p < _block; p++)
            {
                for (int q = 0; q < _block; q++)
                {
                    m[(p * _block) + q] = _h[((long)(first + p) * _size) + first + q];
                }
            }

            return Invert(m, _block);
        }
    }

    /// <summary>The inverse of a symmetric positive definite matrix (damped, so never singular) by Gauss–Jordan elimination with partial pivoting.</summary>
    private static double[] Invert(double[] a, int n)
    {
        double[] m = (double[])a.Clone();
        var inv = new double[(long)n * n];
        for (int i = 0; i < n; i++)
        {
            inv[((long)i * n) + i] = 1;
        }

        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(m[((long)r * n) + col]) > Math.Abs(m[((long)pivot * n) + col]))
                {
                    pivot = r;
                }
            }

            if (pivot != col)
            {
                SwapRows(m, n, pivot, col);
                SwapRows(inv, n, pivot, col);
            }

            // The ridge keeps every matrix inverted here positive definite, so the pivot is never zero.
            double scale = 1 / m[((long)col * n) + col];
            for (int j = 0; j < n; j++)
            {
                m[((long)col * n) + j] *= scale;
                inv[((long)col * n) + j] *= scale;
            }

            for (int r = 0; r < n; r++)
            {
                double f = m[((long)r * n) + col];
                if (r == col || f == 0)
                {
                    continue;
                }

                for (int j = 0; j < n; j++)
                {
                    m[((long)r * n) + j] -= f * m[((long)col * n) + j];
                    inv[((long)r * n) + j] -= f * inv[((long)col * n) + j];
                }
            }
        }

        return inv;
    }

    private static void SwapRows(double[] m, int n, int a, int b)
    {
        for (int j = 0; j < n; j++)
        {
            (m[((long)a * n) + j], m[((long)b * n) + j]) = (m[((long)b * n) + j], m[((long)a * n) + j]);
        }
    }
}
