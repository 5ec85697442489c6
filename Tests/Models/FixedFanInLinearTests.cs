using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Engine;
using Xmc.Models;
using Xmc.Tests.Engine;
using static Xmc.Tests.Models.SparseReference;

namespace Xmc.Tests.Models;

public class FixedFanInLinearTests
{
    [Fact]
    public void Forward_matches_naive_gather_sum()
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(3);
        int batch = 3, d = 11, labels = 5, k = 4;
        var x = Rand(r, batch * d);
        var v = Rand(r, labels * k);
        var bias = Rand(r, labels);
        var idx = Topology(r, labels, d, k);
        var y = Ops.FixedFanIn(Tensor.FromArray(x, new Shape(batch, d)), Tensor.FromArray(v, new Shape(labels, k)),
            IndexTensor(idx, new Shape(labels, k), DType.UInt16), Tensor.FromArray(bias)).ToArray<float>();
        for (int b = 0; b < batch; b++)
        {
            for (int l = 0; l < labels; l++)
            {
                double s = bias[l];
                for (int j = 0; j < k; j++)
                {
                    s += (double)v[l * k + j] * x[b * d + idx[l * k + j]];
                }
                Assert.Equal(s, y[b * labels + l], 1e-5);
            }
        }
    }

    // Tolerances. Float32 storage: both sides sum the same products in another order (plus exact zeros on the
    // dense side), inputs in [−1, 1] and d ≤ 40: |Δ| ≤ 1e-5 + 1e-5·|expected|. BFloat16 storage is compared with the
    // dense layer holding the unrounded float32 values: each value is off by at most 2⁻⁹ relative, so an output
    // may be off by 2⁻⁹·Σ|v·x| ≤ 0.002·k and the input gradient by 0.002·L (upstream weights in [−1, 1]); the
    // values' and bias' gradients do not depend on the values and keep the Float32 tolerance.
    [Property(MaxTest = 40)]
    public bool Forward_and_backward_equal_masked_linear_with_the_same_mask(PositiveInt seedP, bool bf16, bool int32Indices, bool withBias)
    {
        using var scope = TensorScope.Begin();
        var r = new System.Random(seedP.Get);
        int labels = 1 + r.Next(9), d = 1 + r.Next(40), k = 1 + r.Next(d), batch = 1 + r.Next(5);
        var vt = bf16 ? DType.BFloat16 : DType.Float32;
        var it = int32Indices ? DType.Int32 : DType.UInt16;
        var x = Rand(r, batch * d);
        var v = Rand(r, labels * k);
        var bias = Rand(r, labels);
        var upstream = Rand(r, batch * labels);
        var idx = Topology(r, labels, d, k);

        var xs = Tensor.FromArray(x, new Shape(batch, d));
        xs.RequiresGrad = true;
        var vs = ValueTensor(v, new Shape(labels, k), vt);
        vs.RequiresGrad = true;
        var bs = Tensor.FromArray(bias);
        bs.RequiresGrad = true;
        var y = Ops.FixedFanIn(xs, vs, IndexTensor(idx, new Shape(labels, k), it), withBias ? bs : null);
        Ops.Sum(Ops.Mul(y, Tensor.FromArray(upstream, new Shape(batch, labels)))).Backward();

        var (w, m) = Densify(v, idx, labels, d, k);
        using var masked = new MaskedLinear(d, labels, m, w, withBias);
        if (withBias)
        {
            MaskedLinear.Copy(masked.Bias!.Data, bias);
        }
        var xd = Tensor.FromArray(x, new Shape(batch, d));
        xd.RequiresGrad = true;
        var yd = masked.Forward(xd);
        Ops.Sum(Ops.Mul(yd, Tensor.FromArray(upstream, new Shape(batch, labels)))).Backward();

        double tight = 1e-5;
        Close("y", D(yd.ToArray<float>()), y.ToArray<float>(), bf16 ? 0.002 * k + tight : tight, tight);
        Close("grad x", D(xd.Grad!.ToArray<float>()), xs.Grad!.ToArray<float>(), bf16 ? 0.002 * labels + tight : tight, tight);
        var gw = masked.Weight.Grad!.ToArray<float>();
        Close("grad values", Enumerable.Range(0, idx.Length).Select(p => (double)gw[p / k * d + idx[p]]).ToArray(), vs.Grad!.ToArray<float>(), tight, tight);
        if (withBias)
        {
            Close("grad bias", D(masked.Bias!.Grad!.ToArray<float>()), bs.Grad!.ToArray<float>(), tight, tight);
        }
        masked.ZeroGrad();
        return true;
    }

    // Tolerances: eps 1e-2 central differences in float32; |analytic − numeric| ≤ 2e-3 + 2e-2·|numeric|.
    [Property(MaxTest = 25)]
    public bool Gradients_match_finite_differences(PositiveInt seedP)
    {
        var r = new System.Random(seedP.Get);
        int labels = 1 + r.Next(5), d = 1 + r.Next(7), k = 1 + r.Next(d), batch = 1 + r.Next(3);
        var idx = Topology(r, labels, d, k);
        var failure = GradCheck.Check(
            t => Ops.FixedFanIn(t[0], t[1], IndexTensor(idx, new Shape(labels, k), DType.UInt16), t[2]),
            [Rand(r, batch * d), Rand(r, labels * k), Rand(r, labels)],
            [new Shape(batch, d), new Shape(labels, k), new Shape(labels)]);
        return failure is null ? true : throw new Xunit.Sdk.XunitException(failure);
    }

    [Fact]
    public void Wide_inputs_use_int32_indices_and_still_equal_the_masked_layer()
    {
        using var scope = TensorScope.Begin();
        const int d = 70_000, labels = 3, k = 5, batch = 2;
        using var layer = new FixedFanInLinear(d, labels, k, seed: 9);
        Assert.Equal(DType.Int32, layer.IndexType);
        Assert.Equal(DType.UInt16, new FixedFanInLinear(65_536, 1, 1).IndexType);
        layer.Validate();
        using var masked = MaskedLinear.FromFixedFanIn(layer);
        var x = Tensor.FromArray(Rand(new System.Random(1), batch * d), new Shape(batch, d));
        Close("y", D(masked.Forward(x).ToArray<float>()), layer.Forward(x).ToArray<float>(), 1e-5, 1e-5);
    }

    [Fact]
    public void Initialisation_is_deterministic_valid_and_scaled_by_fan_in()
    {
        using var a = new FixedFanInLinear(50, 200, 8, DType.BFloat16, seed: 5);
        using var b = new FixedFanInLinear(50, 200, 8, DType.BFloat16, seed: 5);
        using var c = new FixedFanInLinear(50, 200, 8, DType.BFloat16, seed: 6);
        a.Validate();
        Assert.Equal(a.IndicesToHost(), b.IndicesToHost());
        Assert.NotEqual(a.IndicesToHost(), c.IndicesToHost());
        var v = a.Values.Data.ToFloatArray();
        float bound = 1f / MathF.Sqrt(8);
        Assert.All(v, x => Assert.InRange(x, -bound * 1.01f, bound * 1.01f));
        Assert.True(v.Select(Math.Abs).Average() > bound / 4, "values should spread over the range");
        var used = a.IndicesToHost().Distinct().Count();
        Assert.True(used > 45, $"uniform sampling should touch almost every input, touched {used} of 50");
        Assert.Equal(["values", "indices", "bias"], a.NamedParameters().Select(p => p.Name));
        Assert.False(a.Indices.Trainable);
    }

    [Fact]
    public void Validate_names_the_row_that_breaks_the_invariant()
    {
        using var layer = new FixedFanInLinear(10, 3, 3);
        var bad = new[] { 0, 1, 2, 4, 4, 5, 1, 2, 3 };
        var ex = Assert.Throws<InvalidOperationException>(() => layer.SetIndices(bad));
        Assert.Contains("row 1 slot 1", ex.Message);
        var outOfRange = new[] { 0, 1, 2, 3, 4, 5, 7, 8, 10 };
        ex = Assert.Throws<InvalidOperationException>(() => layer.SetIndices(outOfRange));
        Assert.Contains("row 2 slot 2", ex.Message);
        Assert.Contains("outside [0, 10)", ex.Message);
        layer.SetIndices([0, 1, 2, 3, 4, 5, 7, 8, 9]);
        Assert.Equal([0, 1, 2, 3, 4, 5, 7, 8, 9], layer.IndicesToHost());
    }

    [Fact]
    public void Mismatched_operands_name_the_op_and_shapes()
    {
        using var scope = TensorScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Ops.FixedFanIn(Tensor.Zeros(new Shape(2, 4)), Tensor.Zeros(new Shape(3, 2)),
            Tensor.Zeros(new Shape(3, 3), DType.UInt16), null));
        Assert.Contains("fixed_fan_in", ex.Message);
        Assert.Contains("[3,2]", ex.Message);
        Assert.Contains("[3,3]", ex.Message);
    }
}
