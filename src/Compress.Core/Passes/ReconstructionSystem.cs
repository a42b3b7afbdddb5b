using System.Numerics.Tensors;

namespace Compress.Core.Passes;

/// <summary>
/// The normal equations of one layer, accumulated row by row so memory does not grow with the data:
/// G = AᵀA (A = layer inputs, plus a column of ones when the layer has a bias), C = YᵀA per output, and
/// ‖y‖² per output. Solves each output on its own support (the weights that are still non-zero).
/// </summary>
internal sealed class ReconstructionSystem
{
    private readonly double[] _gram;
    private readonly double[] _cross;
    private readonly double[] _targetSquares;
    private readonly double[] _row;

    public ReconstructionSystem(int inputs, int outputs, bool withBias)
    {
        Inputs = inputs;
        Outputs = outputs;
        WithBias = withBias;
        Size = inputs + (withBias ? 1 : 0);
        _gram = new double[(long)Size * Size];
        _cross = new double[(long)outputs * Size];
        _targetSquares = new double[outputs];
        _row = new double[Size];
    }

    public int Inputs { get; }

    public int Outputs { get; }

    public bool WithBias { get; }

    /// <summary>Unknowns per output: inputs plus the bias.</summary>
    public int Size { get; }

    /// <summary>Rows accumulated.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds one row: the layer input <paramref name="x"/> and the original layer's outputs <paramref name="y"/>.</summary>
    public void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < Inputs; i++)
        {
            _row[i] = x[i];
        }

        if (WithBias)
        {
            _row[Inputs] = 1;
        }

        // Upper triangle only; inputs after ReLU are often zero, which skips whole rows of work.
        for (int i = 0; i < Size; i++)
        {
            double a = _row[i];
            if (a != 0)
            {
                Span<double> g = _gram.AsSpan((i * Size) + i, Size - i);
                TensorPrimitives.MultiplyAdd(_row.AsSpan(i), a, g, g);
            }
        }

        for (int j = 0; j < Outputs; j++)
        {
            double t = y[j];
            _targetSquares[j] += t * t;
            if (t != 0)
            {
                Span<double> c = _cross.AsSpan(j * Size, Size);
                TensorPrimitives.MultiplyAdd(_row, t, c, c);
            }
        }

        Rows++;
    }

    /// <summary>(AᵀA)[i, j], from the stored upper triangle.</summary>
    public double Gram(int i, int j) => i <= j ? _gram[((long)i * Size) + j] : _gram[((long)j * Size) + i];

    /// <summary>(YᵀA)[output, i].</summary>
    public double Cross(int output, int i) => _cross[((long)output * Size) + i];

    /// <summary>‖y‖² summed over outputs.</summary>
    public double TargetEnergy => _targetSquares.Sum();

    /// <summary>
    /// Refits every output: <paramref name="weights"/>[j] holds output j's current weights (and bias last);
    /// the non-zero ones form its support. Minimises ‖A_S w − y‖² + λ‖w − w₀‖² over the support and
    /// returns the squared errors before and after per output; a row is updated only when it improves.
    /// Outputs with the same support (all of them after structured pruning) share one factorisation.
    /// </summary>
    public (double[] Before, double[] After) SolveAll(double[][] weights, double damping)
    {
        var before = new double[Outputs];
        var after = new double[Outputs];
        double lambda = damping * MeanDiagonal();
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var supports = new int[Outputs][];
        for (int j = 0; j < Outputs; j++)
        {
            double[] w = weights[j];
            supports[j] = [.. Enumerable.Range(0, Size).Where(i => w[i] != 0 || (WithBias && i == Inputs))];
            string key = string.Join(',', supports[j]);
            if (!groups.TryGetValue(key, out List<int>? rows))
            {
                groups[key] = rows = [];
            }

            rows.Add(j);
        }

        Parallel.ForEach(groups.Values, rows =>
        {
            int[] support = supports[rows[0]];
            int n = support.Length;
            double[]? factor = n == 0 || Rows == 0 ? null : Factor(support, lambda);
            foreach (int j in rows)
            {
                double[] w = weights[j];
                before[j] = after[j] = Error(j, w, support);
                if (factor is null)
                {
                    continue;
                }

                var x = new double[n];
                for (int p = 0; p < n; p++)
                {
                    x[p] = _cross[((long)j * Size) + support[p]] + (lambda * w[support[p]]);
                }

                Substitute(factor, x, n);
                var refit = (double[])w.Clone();
                for (int p = 0; p < n; p++)
                {
                    refit[support[p]] = x[p];
                }

                double error = Error(j, refit, support);
                if (error <= before[j])
                {
                    after[j] = error;
                    Array.Copy(refit, w, w.Length);
                }
            }
        });

        return (before, after);
    }

    /// <summary>The Cholesky factor of G_SS + λI, or null when it is not positive definite.</summary>
    private double[]? Factor(int[] support, double lambda)
    {
        int n = support.Length;
        var a = new double[(long)n * n];
        for (int p = 0; p < n; p++)
        {
            int i = support[p];
            for (int q = 0; q < n; q++)
            {
                int j = support[q];
                a[(p * n) + q] = i <= j ? _gram[(i * Size) + j] : _gram[(j * Size) + i];
            }

            a[(p * n) + p] += lambda;
        }

        return Cholesky(a, n) ? a : null;
    }

    public double MeanDiagonal()
    {
        double sum = 0;
        for (int i = 0; i < Inputs; i++)
        {
            sum += _gram[((long)i * Size) + i];
        }

        return Inputs == 0 || sum <= 0 ? 1e-8 : sum / Inputs;
    }

    /// <summary>‖A_S w − y‖² = wᵀGw − 2 wᵀc + ‖y‖².</summary>
    private double Error(int output, double[] w, int[] support)
    {
        double quadratic = 0, linear = 0;
        foreach (int i in support)
        {
            double wi = w[i];
            linear += wi * _cross[((long)output * Size) + i];
            quadratic += wi * wi * _gram[((long)i * Size) + i];
            foreach (int j in support)
            {
                if (j > i)
                {
                    quadratic += 2 * wi * w[j] * _gram[(i * Size) + j];
                }
            }
        }

        return Math.Max(0, quadratic - (2 * linear) + _targetSquares[output]);
    }

    /// <summary>Factors a symmetric positive definite a = L·Lᵀ in place (L in the lower triangle); false when it is not.</summary>
    private static bool Cholesky(double[] a, int n)
    {
        // Row-major lower factor: every inner product runs over contiguous memory.
        for (int j = 0; j < n; j++)
        {
            ReadOnlySpan<double> rowJ = a.AsSpan(j * n, j);
            double d = a[(j * n) + j] - TensorPrimitives.Dot(rowJ, rowJ);
            if (!(d > 0))
            {
                return false;
            }

            double l = Math.Sqrt(d);
            a[(j * n) + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                a[(i * n) + j] = (a[(i * n) + j] - TensorPrimitives.Dot(a.AsSpan(i * n, j), rowJ)) / l;
            }
        }

        return true;
    }

    /// <summary>Solves L·Lᵀ·x = b in place with the factor from <see cref="Cholesky"/>.</summary>
    private static void Substitute(double[] l, double[] b, int n)
    {
        for (int i = 0; i < n; i++)
        {
            b[i] = (b[i] - TensorPrimitives.Dot(l.AsSpan(i * n, i), b.AsSpan(0, i))) / l[(i * n) + i];
        }

        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++)
            {
                s -= l[(k * n) + i] * b[k];
            }

            b[i] = s / l[(i * n) + i];
        }
    }
}
