using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;

namespace Xmc.Tests.Engine;

public class DropoutMatMulTests
{
    // The fused op runs the same dropout and GEMM kernels as the two-op composition, so outputs and both
    // gradients must be equal bit for bit; the reference is the composition (each part has its own checks).
    [Property(MaxTest = 30)]
    public bool Equals_dropout_then_matmul_bit_for_bit(PositiveInt batchP, PositiveInt mP, PositiveInt kP, PositiveInt nP, int seed)
    {
        int batch = 1 + batchP.Get % 3, m = 1 + mP.Get % 6, k = 1 + kP.Get % 7, n = 1 + nP.Get % 5;
        var r = new System.Random(seed);
        float p = (float)(0.05 + 0.8 * r.NextDouble());
        ulong offset = (ulong)r.Next(1000);
        var aData = RandomData.Floats(r, batch * m * k);
        var bData = RandomData.Floats(r, batch * k * n);
        var gData = RandomData.Floats(r, batch * m * n);

        (float[] Y, float[] Ga, float[] Gb) Run(bool fused)
        {
            using var scope = TensorScope.Begin();
            var a = Tensor.FromArray(aData, new Shape(batch, m, k));
            var b = Tensor.FromArray(bData, new Shape(batch, k, n));
            a.RequiresGrad = b.RequiresGrad = true;
            var y = fused ? Ops.DropoutMatMul(a, b, p, 5, offset) : Ops.MatMul(Ops.Dropout(a, p, 5, offset), b);
            y.Backward(Tensor.FromArray(gData, y.Shape));
            return (y.ToArray<float>(), a.Grad!.ToArray<float>(), b.Grad!.ToArray<float>());
        }

        var (y0, ga0, gb0) = Run(false);
        var (y1, ga1, gb1) = Run(true);
        Assert.Equal(y0, y1);
        Assert.Equal(ga0, ga1);
        Assert.Equal(gb0, gb1);
        return true;
    }

    // Fixed mask (seed, offset), so f is bilinear in (a, b); central differences with GradCheck's defaults
    // (eps 1e-2, |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|).
    [Property(MaxTest = 20)]
    public bool Gradients_match_finite_differences(PositiveInt mP, PositiveInt kP, PositiveInt nP, int seed)
    {
        int m = 1 + mP.Get % 4, k = 1 + kP.Get % 5, n = 1 + nP.Get % 4;
        var r = new System.Random(seed);
        var failure = GradCheck.Check(x => Ops.DropoutMatMul(x[0], x[1], 0.3f, 9, 2),
            [RandomData.Floats(r, 2 * m * k), RandomData.Floats(r, 2 * k * n)], [new Shape(2, m, k), new Shape(2, k, n)]);
        Assert.Null(failure);
        return true;
    }

    [Fact]
    public void Rejects_unbatched_operands_and_bad_probabilities()
    {
        using var scope = TensorScope.Begin();
        var a = Tensor.Zeros(new Shape(2, 3));
        var b = Tensor.Zeros(new Shape(3, 4));
        var e = Assert.Throws<ArgumentException>(() => Ops.DropoutMatMul(a, b, 0.1f, 1, 0));
        Assert.Contains("dropout_matmul", e.Message);
        var a3 = Tensor.Zeros(new Shape(1, 2, 3));
        var b3 = Tensor.Zeros(new Shape(1, 3, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.DropoutMatMul(a3, b3, 1f, 1, 0));
        Assert.Equal(Ops.MatMul(a3, b3).ToArray<float>(), Ops.DropoutMatMul(a3, b3, 0f, 1, 0).ToArray<float>());
    }
}
