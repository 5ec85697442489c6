using FsCheck;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Training.Baselines;
using Xmc.Training.Config;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

public class LinearBaselineTests
{

    // ---- a naive reference: the primal problem on dense arrays, solved by Newton's method with the generalised
    // Hessian I + 2C Σ_{active} x̂ x̂ᵀ, Gaussian elimination and Armijo backtracking, to ‖∇f‖ < 1e-10.

    private static double[][] DenseWithBias(CsrMatrix x)
        => Enumerable.Range(0, x.Rows).Select(i => BaselineTestData.Dense(x, i).Select(v => (double)v).Append(1.0).ToArray()).ToArray();

    private static double Objective(double[][] x, int[] y, double c, double[] w)
    {
        double f = 0.5 * w.Sum(v => v * v);
        for (int i = 0; i < x.Length; i++)
        {
            double m = 1 - y[i] * x[i].Zip(w, (a, b) => a * b).Sum();
            f += m > 0 ? c * m * m : 0;
        }
        return f;
    }

    private static double[] Gradient(double[][] x, int[] y, double c, double[] w)
    {
        var g = (double[])w.Clone();
        for (int i = 0; i < x.Length; i++)
        {
            double z = x[i].Zip(w, (a, b) => a * b).Sum();
            if (y[i] * z < 1)
            {
                for (int j = 0; j < w.Length; j++)
                {
                    g[j] += 2 * c * (z - y[i]) * x[i][j];
                }
            }
        }
        return g;
    }

    private static double Norm(double[] v) => Math.Sqrt(v.Sum(a => a * a));

    private static double[] NewtonReference(double[][] x, int[] y, double c)
    {
        int d = x[0].Length;
        var w = new double[d];
        for (int iter = 0; iter < 200; iter++)
        {
            var g = Gradient(x, y, c, w);
            if (Norm(g) < 1e-10)
            {
                break;
            }
            var h = new double[d, d + 1];
            for (int a = 0; a < d; a++)
            {
                h[a, a] = 1;
                h[a, d] = -g[a];
            }
            for (int i = 0; i < x.Length; i++)
            {
                if (y[i] * x[i].Zip(w, (p, q) => p * q).Sum() < 1)
                {
                    for (int a = 0; a < d; a++)
                    {
                        for (int b = 0; b < d; b++)
                        {
                            h[a, b] += 2 * c * x[i][a] * x[i][b];
                        }
                    }
                }
            }
            var step = SolveLinear(h, d);
            double f0 = Objective(x, y, c, w), slope = step.Zip(g, (p, q) => p * q).Sum(), t = 1;
            while (Objective(x, y, c, w.Zip(step, (p, q) => p + t * q).ToArray()) > f0 + 1e-4 * t * slope && t > 1e-12)
            {
                t /= 2;
            }
            w = w.Zip(step, (p, q) => p + t * q).ToArray();
        }
        return w;
    }

    private static double[] SolveLinear(double[,] m, int d)
    {
        for (int col = 0; col < d; col++)
        {
            int pivot = Enumerable.Range(col, d - col).MaxBy(r => Math.Abs(m[r, col]));
            for (int k = 0; k <= d; k++)
            {
                (m[col, k], m[pivot, k]) = (m[pivot, k], m[col, k]);
            }
            for (int r = 0; r < d; r++)
            {
                if (r != col)
                {
                    double f = m[r, col] / m[col, col];
                    for (int k = col; k <= d; k++)
                    {
                        m[r, k] -= f * m[col, k];
                    }
                }
            }
        }
        return Enumerable.Range(0, d).Select(r => m[r, d] / m[r, r]).ToArray();
    }

    private static (CsrMatrix X, int[] Positives, int[] Y) Problem(int seed)
    {
        var r = new Random(seed);
        int n = r.Next(2, 40), d = r.Next(1, 9);
        var x = BaselineTestData.Rows(r, n, d, 5);
        var positives = Enumerable.Range(0, n).Where(_ => r.Next(4) == 0).ToArray();
        var y = Enumerable.Range(0, n).Select(i => positives.Contains(i) ? 1 : -1).ToArray();
        return (x, positives, y);
    }

    [Property(MaxTest = 40)]
    public bool Dual_coordinate_descent_reaches_the_newton_reference_optimum(int seed, bool large)
    {
        var (x, positives, y) = Problem(seed);
        double c = large ? 8 : 0.5;
        var solver = new SquaredHingeSolver(x, new LinearOptions([c], Tolerance: 1e-7, MaxEpochs: 100_000));
        var ws = solver.NewWorkspace();
        solver.Begin(ws, 0, positives);
        var stats = solver.Solve(ws, c, 1);
        var dense = DenseWithBias(x);
        var reference = NewtonReference(dense, y, c);
        double fRef = Objective(dense, y, c, reference), f = Objective(dense, y, c, ws.W);
        var sy = y.Select(v => (sbyte)v).ToArray();
        return stats.Converged
            && Norm(Gradient(dense, y, c, reference)) < 1e-8
            && f >= fRef - 1e-9 && f - fRef <= 1e-9 * Math.Max(1, fRef)
            && Norm(Gradient(dense, y, c, ws.W)) <= 1e-4
            && Math.Abs(solver.Objective(ws.W, sy, c) - f) <= 1e-9 * Math.Max(1, f)
            && Norm(solver.Gradient(ws.W, sy, c).Zip(Gradient(dense, y, c, ws.W), (a, b) => a - b).ToArray()) <= 1e-9;
    }

    [Property(MaxTest = 40)]
    public bool At_the_default_tolerance_the_objective_is_within_a_thousandth_of_the_optimum(int seed)
    {
        var (x, positives, y) = Problem(seed);
        const double c = 1;
        var solver = new SquaredHingeSolver(x, new LinearOptions([c]));
        var ws = solver.NewWorkspace();
        solver.Begin(ws, 3, positives);
        var stats = solver.Solve(ws, c, 1);
        var dense = DenseWithBias(x);
        double fRef = Objective(dense, y, c, NewtonReference(dense, y, c)), f = Objective(dense, y, c, ws.W);
        return stats.Converged && f - fRef <= 1e-3 * fRef
            && Norm(Gradient(dense, y, c, ws.W)) <= 0.05 * Norm(Gradient(dense, y, c, new double[ws.W.Length]));
    }

    [Fact]
    public void A_warm_started_c_path_reaches_the_same_optimum_as_a_cold_start()
    {
        var (x, positives, y) = Problem(42);
        var options = new LinearOptions([0.25, 4], Tolerance: 1e-8, MaxEpochs: 100_000);
        var solver = new SquaredHingeSolver(x, options);
        var warm = solver.NewWorkspace();
        solver.Begin(warm, 0, positives);
        solver.Solve(warm, 0.25, 1);
        solver.Solve(warm, 4, 1);
        var cold = solver.NewWorkspace();
        solver.Begin(cold, 0, positives);
        solver.Solve(cold, 4, 1);
        var dense = DenseWithBias(x);
        Assert.Equal(Objective(dense, y, 4, cold.W), Objective(dense, y, 4, warm.W), 1e-9);
    }

    [Fact]
    public void Cull_keeps_exactly_the_weights_at_or_above_the_threshold_and_always_the_bias()
    {
        double[] w = [0.5, -0.009, 0.01, -0.01, 0, 0.0099999, -2, 0.001];
        var (ids, values, bias) = LinearModel.Cull(w, 0.01);
        Assert.Equal([0, 2, 3, 6], ids);
        Assert.Equal([0.5f, 0.01f, -0.01f, -2f], values);
        Assert.Equal(0.001f, bias);
        var (all, _, _) = LinearModel.Cull(w, 0);
        Assert.Equal([0, 1, 2, 3, 5, 6], all); // zeros are never stored
    }

    [Property(MaxTest = 40)]
    public bool Prediction_equals_a_dense_brute_force_ranking(int seed)
    {
        var r = new Random(seed);
        int labels = r.Next(1, 15), features = r.Next(1, 12), k = r.Next(1, 7);
        var weights = BaselineTestData.Rows(r, labels, features, 4);
        var bias = Enumerable.Range(0, labels).Select(_ => (float)Math.Round(r.NextDouble() * 2 - 1, 1)).ToArray();
        var model = new LinearModel(weights, bias, 1, BaselineTestData.UnitWeights(features));
        var points = BaselineTestData.Rows(r, r.Next(1, 8), features, 5);
        var (predLabels, predScores) = model.Predict(points, k);
        for (int i = 0; i < points.Rows; i++)
        {
            var x = BaselineTestData.Dense(points, i);
            var scores = Enumerable.Range(0, labels).Select(l =>
            {
                float s = bias[l];
                var ids = weights.Row(l);
                var v = weights.RowValues(l);
                for (int j = 0; j < ids.Length; j++)
                {
                    s += x[ids[j]] * v[j];
                }
                return s;
            }).ToArray();
            var expected = Enumerable.Range(0, labels).OrderByDescending(l => scores[l]).ThenBy(l => l).Take(k).ToArray();
            if (!predLabels[i].SequenceEqual(expected)
                || predScores[i].Zip(expected, (s, l) => Math.Abs(s - scores[l])).Any(e => e > 1e-5))
            {
                return false;
            }
        }
        return true;
    }

    [Fact]
    public void Training_chooses_c_on_validation_and_culls_the_final_model()
    {
        var r = new Random(3);
        var x = BaselineTestData.Rows(r, 200, 30, 6);
        var y = BaselineTestData.Labels(r, 200, 8, 2);
        var log = new StringWriter();
        var (model, selection, solves) = LinearBaseline.Train(x, y, BaselineTestData.UnitWeights(30), new LinearOptions([4, 0.5]), new ValidationOptions(0.1, 2), log);
        Assert.Equal([0.5, 4], selection.Values);
        Assert.Equal(selection.Value, model.C);
        Assert.Equal(8 * 2 + 8, solves.Solves); // the grid on the fit split, then the chosen C on all points
        Assert.Equal(0, solves.NotConverged);
        Assert.All(model.Weights.Values!, v => Assert.True(Math.Abs(v) >= 0.01f));
        var uncut = LinearBaseline.Solve(x, y, [model.C], new LinearOptions([model.C], CullThreshold: 0), BaselineTestData.UnitWeights(30), TextWriter.Null, "test")[0];
        Assert.True(uncut.Weights.Nnz > model.Weights.Nnz);
        Assert.Equal(uncut.Bias, model.Bias);
        Assert.Contains("<- chosen by P@1", log.ToString());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void A_c_that_is_not_positive_is_refused(double c)
    {
        var e = Assert.Throws<ConfigException>(() => new LinearOptions([1, c]).Validate());
        Assert.Contains("--c", e.Message);
        Assert.Throws<ConfigException>(() => BaselineNames.ParsePositiveList("1,0", "--c"));
    }
}
