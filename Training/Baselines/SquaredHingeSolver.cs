using Xmc.Engine;
using Xmc.Training.Data;

namespace Xmc.Training.Baselines;

/// <summary>How one label's solve ended.</summary>
/// <param name="Epochs">Passes over the (active) points.</param>
/// <param name="Converged">The projected-gradient span fell below the tolerance over all points.</param>
public readonly record struct SolveStats(int Epochs, bool Converged);

/// <summary>One binary L2-regularised squared-hinge problem per label, DiSMEC's:
/// min_w ½‖w‖² + C Σ_i max(0, 1 − y_i wᵀx̂_i)², x̂_i = (x_i, 1) (a bias feature of value 1, regularised like every
/// weight), solved by dual coordinate descent with shrinking (Hsieh et al. 2008, LIBLINEAR's L2-loss SVC dual): the
/// dual min_α ½αᵀ(Q + I/(2C))α − Σα_i, α ≥ 0, Q_ij = y_i y_j x̂_iᵀx̂_j, with w = Σ α_i y_i x̂_i kept up to date. Each
/// pass visits the active points in a random order drawn from (seed, label, C, pass), so a label's solution does
/// not depend on threads. Stops when max − min of the projected gradient over one pass of all points is below the
/// tolerance. A workspace is one thread's: w (double, features + 1), α and y (one per point).</summary>
public sealed class SquaredHingeSolver
{
    private readonly CsrMatrix _x;
    private readonly double[] _squaredNorm;
    private readonly LinearOptions _options;

    /// <summary>A solver over the weighted rows <paramref name="x"/>.</summary>
    public SquaredHingeSolver(CsrMatrix x, LinearOptions options)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        if (x.Values is null)
        {
            throw new ArgumentException("linear: the rows need values (tf-idf weights)");
        }
        _x = x;
        _options = options;
        _squaredNorm = new double[x.Rows];
        for (int i = 0; i < x.Rows; i++)
        {
            double s = 1; // the bias feature
            foreach (float v in x.RowValues(i))
            {
                s += (double)v * v;
            }
            _squaredNorm[i] = s;
        }
    }

    /// <summary>Width of w: the features plus the bias.</summary>
    public int Width => _x.Columns + 1;

    /// <summary>One thread's state of a solve.</summary>
    public sealed class Workspace
    {
        internal Workspace(int width, int points)
        {
            W = new double[width];
            Alpha = new double[points];
            Y = new sbyte[points];
            Order = new int[points];
        }

        /// <summary>Weights, the bias last.</summary>
        public double[] W { get; }

        internal double[] Alpha { get; }

        internal sbyte[] Y { get; }

        internal int[] Order { get; }

        internal int Label { get; set; }
    }

    /// <summary>A workspace for one thread.</summary>
    public Workspace NewWorkspace() => new(Width, _x.Rows);

    /// <summary>Starts label <paramref name="label"/> with positive points <paramref name="positives"/>: α = 0, w = 0.</summary>
    public void Begin(Workspace ws, int label, ReadOnlySpan<int> positives)
    {
        ArgumentNullException.ThrowIfNull(ws);
        Array.Clear(ws.W);
        Array.Clear(ws.Alpha);
        ws.Y.AsSpan().Fill(-1);
        foreach (int i in positives)
        {
            ws.Y[i] = 1;
        }
        ws.Label = label;
    }

    /// <summary>Solves for <paramref name="c"/>, starting from the workspace's current α (a warm start from a smaller C
    /// is valid: α ≥ 0 is the only constraint).</summary>
    public SolveStats Solve(Workspace ws, double c, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(ws);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(c);
        int n = _x.Rows, bias = _x.Columns;
        double diag = 0.5 / c;
        var w = ws.W;
        var alpha = ws.Alpha;
        var y = ws.Y;
        var order = ws.Order;
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }
        var ids = _x.ColumnIds;
        var vals = _x.Values!;
        int active = n;
        double pgMaxOld = double.PositiveInfinity, pgMinOld = double.NegativeInfinity;
        var rng = new SplitMix64(seed, (ulong)ws.Label, BitConverter.DoubleToUInt64Bits(c));
        for (int epoch = 1; epoch <= _options.MaxEpochs; epoch++)
        {
            for (int s = active - 1; s > 0; s--)
            {
                int j = rng.NextInt(s + 1);
                (order[s], order[j]) = (order[j], order[s]);
            }
            double pgMax = double.NegativeInfinity, pgMin = double.PositiveInfinity;
            for (int s = 0; s < active; s++)
            {
                int i = order[s];
                long start = _x.RowPtr[i], end = _x.RowPtr[i + 1];
                double dot = w[bias];
                for (long p = start; p < end; p++)
                {
                    dot += w[ids[p]] * vals[p];
                }
                double yi = y[i];
                double g = yi * dot - 1 + alpha[i] * diag;
                double pg = g;
                if (alpha[i] == 0)
                {
                    if (g > pgMaxOld)
                    {
                        // shrink: at the bound and likely to stay there
                        active--;
                        (order[s], order[active]) = (order[active], order[s]);
                        s--;
                        continue;
                    }
                    pg = Math.Min(g, 0);
                }
                pgMax = Math.Max(pgMax, pg);
                pgMin = Math.Min(pgMin, pg);
                if (Math.Abs(pg) > 1e-12)
                {
                    double old = alpha[i];
                    alpha[i] = Math.Max(old - g / (_squaredNorm[i] + diag), 0);
                    double d = (alpha[i] - old) * yi;
                    for (long p = start; p < end; p++)
                    {
                        w[ids[p]] += d * vals[p];
                    }
                    w[bias] += d;
                }
            }
            if (pgMax - pgMin <= _options.Tolerance || active == 0)
            {
                if (active == n)
                {
                    return new SolveStats(epoch, Converged: true);
                }
                // converged on the active set: check every point once more
                active = n;
                pgMaxOld = double.PositiveInfinity;
                pgMinOld = double.NegativeInfinity;
                continue;
            }
            pgMaxOld = pgMax <= 0 ? double.PositiveInfinity : pgMax;
            pgMinOld = pgMin >= 0 ? double.NegativeInfinity : pgMin;
        }
        return new SolveStats(_options.MaxEpochs, Converged: false);
    }

    /// <summary>The primal objective ½‖w‖² + C Σ max(0, 1 − y_i wᵀx̂_i)² of <paramref name="w"/> (bias last) for labels
    /// <paramref name="y"/> (±1 per point).</summary>
    public double Objective(ReadOnlySpan<double> w, ReadOnlySpan<sbyte> y, double c)
    {
        double reg = 0;
        foreach (double v in w)
        {
            reg += v * v;
        }
        double loss = 0;
        for (int i = 0; i < _x.Rows; i++)
        {
            double margin = 1 - y[i] * Score(w, i);
            if (margin > 0)
            {
                loss += margin * margin;
            }
        }
        return 0.5 * reg + c * loss;
    }

    /// <summary>The primal gradient w + 2C Σ_{i: y_i wᵀx̂_i &lt; 1} (wᵀx̂_i − y_i) x̂_i.</summary>
    public double[] Gradient(ReadOnlySpan<double> w, ReadOnlySpan<sbyte> y, double c)
    {
        var g = w.ToArray();
        for (int i = 0; i < _x.Rows; i++)
        {
            double z = Score(w, i);
            if (y[i] * z < 1)
            {
                double coef = 2 * c * (z - y[i]);
                var ids = _x.Row(i);
                var vals = _x.RowValues(i);
                for (int j = 0; j < ids.Length; j++)
                {
                    g[ids[j]] += coef * vals[j];
                }
                g[_x.Columns] += coef;
            }
        }
        return g;
    }

    private double Score(ReadOnlySpan<double> w, int i)
    {
        double dot = w[_x.Columns];
        var ids = _x.Row(i);
        var vals = _x.RowValues(i);
        for (int j = 0; j < ids.Length; j++)
        {
            dot += w[ids[j]] * vals[j];
        }
        return dot;
    }
}
