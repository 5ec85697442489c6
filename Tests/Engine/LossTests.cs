using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Engine.Backends;

namespace Xmc.Tests.Engine;

public unsafe class LossTests
{
    // The cases the CUDA parity suite runs too, on the CPU backend, against double formulas. Tolerance: row losses sum
    // cols terms, 1e-6·cols absolute + 1e-6 relative; gradients 1e-7 absolute + 1e-5 relative.
    [Theory]
    [MemberData(nameof(LossCases.Shapes), MemberType = typeof(LossCases))]
    public void Backend_row_losses_and_gradients_match_double_formulas(int rows, int cols)
    {
        var (z, t, classes) = LossCases.Inputs(rows, cols);
        var gradLoss = new[] { LossCases.GradLoss };
        var bce = new float[rows];
        var ce = new float[rows];
        var dBce = new float[rows * cols];
        var dCe = new float[rows * cols];
        var cpu = CpuBackend.Instance;
        fixed (float* pz = z, pt = t, pg = gradLoss, pb = bce, pc = ce, pdb = dBce, pdc = dCe)
        fixed (int* pk = classes)
        {
            cpu.BceWithLogits((nint)pz, (nint)pt, (nint)pb, rows, cols);
            cpu.BceWithLogitsBackward((nint)pz, (nint)pt, (nint)pg, (nint)pdb, rows, cols, LossCases.Scale);
            cpu.SoftmaxCrossEntropy((nint)pz, (nint)pk, (nint)pc, rows, cols);
            cpu.SoftmaxCrossEntropyBackward((nint)pz, (nint)pk, (nint)pg, (nint)pdc, rows, cols, LossCases.Scale);
        }
        static void Close(double want, float got, double abs, string what)
            => Assert.True(Math.Abs(got - want) <= abs + 1e-5 * Math.Abs(want), $"{what}: {got} vs {want}");
        double g = (double)LossCases.GradLoss * LossCases.Scale;
        for (int r = 0; r < rows; r++)
        {
            var zr = Enumerable.Range(0, cols).Select(c => (double)z[r * cols + c]).ToArray();
            double max = zr.Max(), logSum = max + Math.Log(zr.Sum(v => Math.Exp(v - max)));
            Close(Enumerable.Range(0, cols).Sum(c => Math.Max(zr[c], 0) - zr[c] * t[r * cols + c] + Math.Log(1 + Math.Exp(-Math.Abs(zr[c])))),
                bce[r], 1e-6 * cols, $"bce[{r}]");
            Close(logSum - zr[classes[r]], ce[r], 1e-6 * cols, $"cross-entropy[{r}]");
            for (int c = 0; c < cols; c++)
            {
                int k = r * cols + c;
                Close(g * (1 / (1 + Math.Exp(-zr[c])) - t[k]), dBce[k], 1e-7, $"bce'[{r},{c}]");
                Close(g * (Math.Exp(zr[c] - logSum) - (c == classes[r] ? 1 : 0)), dCe[k], 1e-7, $"cross-entropy'[{r},{c}]");
            }
        }
    }

    /// <summary>Naive BCE: −t·log σ(z) − (1 − t)·log(1 − σ(z)), in double (fine for |z| ≤ 30).</summary>
    private static double NaiveBce(double z, double t)
    {
        double s = 1 / (1 + Math.Exp(-z));
        return -t * Math.Log(s) - (1 - t) * Math.Log(1 - s);
    }

    // Tolerance: float32 sums of ≤ 40 terms of order 1 against double: 1e-5 relative.
    [Theory]
    [InlineData(LossReduction.SumLabelsMeanBatch)]
    [InlineData(LossReduction.Mean)]
    public void Bce_matches_the_naive_formula(LossReduction reduction)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(5);
        int rows = 4, cols = 10;
        var z = RandomData.Floats(r, rows * cols, -8f, 8f);
        var t = Enumerable.Range(0, rows * cols).Select(i => i % 3 == 0 ? 1f : i % 7 == 0 ? 0.3f : 0f).ToArray();
        float loss = Ops.BceWithLogits(Tensor.FromArray(z, new Shape(rows, cols)), Tensor.FromArray(t, new Shape(rows, cols)), reduction).Item();
        double total = Enumerable.Range(0, rows * cols).Sum(i => NaiveBce(z[i], t[i]));
        double expected = reduction == LossReduction.Mean ? total / (rows * cols) : total / rows;
        Assert.Equal(expected, loss, 1e-5 * expected);
    }

    [Fact]
    public void Bce_is_finite_for_huge_logits()
    {
        using var scope = TensorScope.Begin();
        var z = Tensor.FromArray(new[] { 100f, -100f, 1e30f, -1e30f }, new Shape(1, 4));
        var t = Tensor.FromArray(new[] { 0f, 1f, 1f, 0f }, new Shape(1, 4));
        z.RequiresGrad = true;
        var loss = Ops.BceWithLogits(z, t);
        Assert.Equal(200f, loss.Item(), 1e-3f);
        loss.Backward();
        Assert.Equal(new[] { 1f, -1f, 0f, 0f }, z.Grad!.ToArray<float>());
    }

    [Fact]
    public void Cross_entropy_matches_the_naive_formula()
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(8);
        int rows = 5, cols = 7;
        var z = RandomData.Floats(r, rows * cols, -20f, 20f);
        var t = new[] { 0, 6, 3, 3, 1 };
        float loss = Ops.SoftmaxCrossEntropy(Tensor.FromArray(z, new Shape(rows, cols)), Tensor.FromArray(t)).Item();
        double expected = 0;
        for (int i = 0; i < rows; i++)
        {
            var row = z.Skip(i * cols).Take(cols).Select(v => (double)v).ToArray();
            expected += -Math.Log(Math.Exp(row[t[i]]) / row.Sum(Math.Exp));
        }
        expected /= rows;
        Assert.Equal(expected, loss, 1e-5 * expected);
    }

    [Fact]
    public void Cross_entropy_target_out_of_range_names_the_row()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.SoftmaxCrossEntropy(Tensor.Zeros(new Shape(3, 4)), Tensor.FromArray(new[] { 0, 4, 1 })));
        Assert.Contains("row 1", ex.Message);
    }

    [Fact]
    public void Cross_entropy_rejects_float_targets_and_wrong_count()
    {
        using var scope = TensorScope.Begin();
        var dt = Assert.Throws<ArgumentException>(() => Ops.SoftmaxCrossEntropy(Tensor.Zeros(new Shape(3, 4)), Tensor.Zeros(new Shape(3))));
        Assert.Contains("Int32", dt.Message);
        var sh = Assert.Throws<ArgumentException>(() => Ops.SoftmaxCrossEntropy(Tensor.Zeros(new Shape(3, 4)), Tensor.FromArray(new[] { 0, 1 })));
        Assert.Contains("[3,4]", sh.Message);
        Assert.Contains("[2]", sh.Message);
    }

    // Tolerances: central differences with step 1e-2 in float32; |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|.
    [Property(MaxTest = 40)]
    public bool Bce_gradient_matches_finite_differences(PositiveInt rP, PositiveInt cP, int seed, bool mean)
    {
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 7;
        var r = new System.Random(seed);
        var z = RandomData.Floats(r, rows * cols, -3f, 3f);
        var t = Enumerable.Range(0, rows * cols).Select(_ => (float)r.Next(2)).ToArray();
        var shape = new Shape(rows, cols);
        var reduction = mean ? LossReduction.Mean : LossReduction.SumLabelsMeanBatch;
        var failure = GradCheck.Check(a => Ops.BceWithLogits(a[0], a[1], reduction), [z, t], [shape, shape], differentiable: [true, false]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }

    [Property(MaxTest = 40)]
    public bool Cross_entropy_gradient_matches_finite_differences(PositiveInt rP, PositiveInt cP, int seed)
    {
        int rows = 1 + rP.Get % 4, cols = 1 + cP.Get % 7;
        var r = new System.Random(seed);
        var z = RandomData.Floats(r, rows * cols, -3f, 3f);
        var t = Enumerable.Range(0, rows).Select(_ => r.Next(cols)).ToArray();
        var failure = GradCheck.Check(a => Ops.SoftmaxCrossEntropy(a[0], Tensor.FromArray(t)), [z], [new Shape(rows, cols)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }
}
