using Xmc.Engine;
using Xmc.Engine.Backends;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Optim;

namespace Xmc.Tests.Training;

public class OptimizerTests
{
    private static Parameter Param(params float[] values)
    {
        var p = new Parameter(new Shape(values.Length));
        p.Data.CopyFrom<float>(values);
        return p;
    }

    /// <summary>Gives <paramref name="p"/> the gradient <paramref name="g"/> through autodiff.</summary>
    private static void SetGrad(Parameter p, params float[] g)
    {
        p.ZeroGrad();
        using var scope = TensorScope.Begin();
        Ops.Sum(Ops.Mul(p.Data, Tensor.FromArray(g))).Backward();
    }

    private static float[] Run(Optimizer opt, Parameter p, params float[][] grads)
    {
        foreach (var g in grads)
        {
            SetGrad(p, g);
            opt.Step();
        }
        return p.Data.ToArray<float>();
    }

    // Hand-computed: lr 0.1, μ 0.9, p0 = 1, g = 0.5 twice. Plain: u = 0.5, 0.95 → p = 0.95, 0.855.
    // Nesterov: steps 0.5 + 0.45 = 0.95 and 0.5 + 0.855 = 1.355 → p = 0.905, 0.7695. L2 0.1, no momentum:
    // g' = 0.6 → p = 0.94.
    [Fact]
    public void Sgd_steps_match_hand_computed_values()
    {
        using var a = Param(1f);
        using var opt = new Sgd([new ParameterGroup([a], 0.1f)], momentum: 0.9f);
        Assert.Equal(0.855f, Run(opt, a, [0.5f], [0.5f])[0], 1e-6f);
        using var b = Param(1f);
        using var nest = new Sgd([new ParameterGroup([b], 0.1f)], momentum: 0.9f, nesterov: true);
        Assert.Equal(0.905f, Run(nest, b, [0.5f])[0], 1e-6f);
        Assert.Equal(0.7695f, Run(nest, b, [0.5f])[0], 1e-6f);
        using var c = Param(1f);
        using var decay = new Sgd([new ParameterGroup([c], 0.1f, WeightDecay: 0.1f)]);
        Assert.Equal(0.94f, Run(decay, c, [0.5f])[0], 1e-6f);
        Assert.Empty(decay.State(c));
    }

    // Hand-computed: lr 0.1, β 0.9/0.999, ε 1e-8, p0 = 1, g = 0.5 then −1: p1 = 1 − 0.1·0.5/0.5 = 0.9;
    // m2 = −0.055, v2 = 0.00124975, m̂ = −0.289474, v̂ = 0.625188 → p2 = 0.936610.
    // With decay 0.01: Adam's L2 gives g' = 0.51, m̂/√v̂ = 1 → 0.9; AdamW gives 1·(1 − 0.001) − 0.1 = 0.899.
    [Fact]
    public void Adam_and_adamw_steps_match_hand_computed_values()
    {
        using var a = Param(1f);
        using var adam = new Adam([new ParameterGroup([a], 0.1f)]);
        Assert.Equal(0.9f, Run(adam, a, [0.5f])[0], 1e-6f);
        Assert.Equal(0.9366104f, Run(adam, a, [-1f])[0], 1e-6f);
        using var b = Param(1f);
        using var l2 = new Adam([new ParameterGroup([b], 0.1f, WeightDecay: 0.01f)]);
        Assert.Equal(0.9f, Run(l2, b, [0.5f])[0], 1e-6f);
        using var c = Param(1f);
        using var adamw = Adam.AdamW([new ParameterGroup([c], 0.1f, WeightDecay: 0.01f)]);
        Assert.Equal(0.899f, Run(adamw, c, [0.5f])[0], 1e-6f);
    }

    [Fact]
    public void Groups_use_their_own_rate_and_the_schedule_scales_them()
    {
        using var enc = Param(1f);
        using var cls = Param(1f);
        using var opt = new Sgd([new ParameterGroup([enc], 0.01f), new ParameterGroup([cls], 0.1f)], schedule: new LearningRateSchedule(2, 10));
        SetGrad(enc, 1f);
        SetGrad(cls, 1f);
        opt.Step(); // warm-up factor 1/2
        Assert.Equal(1f - 0.005f, enc.Data.ToArray<float>()[0], 1e-7f);
        Assert.Equal(1f - 0.05f, cls.Data.ToArray<float>()[0], 1e-7f);
        Assert.Equal(0.1f, opt.CurrentLearningRate(1), 1e-7f);
    }

    [Fact]
    public void Schedules_warm_up_linearly_then_decay()
    {
        var linear = new LearningRateSchedule(4, 12);
        Assert.Equal([0.25f, 0.5f, 0.75f, 1f, 1f, 0.5f, 0f, 0f], new long[] { 0, 1, 2, 3, 4, 8, 12, 20 }.Select(linear.Factor));
        var cosine = new LearningRateSchedule(4, 12, DecayShape.Cosine, Floor: 0.1f);
        Assert.Equal(1f, cosine.Factor(4), 1e-6f);
        Assert.Equal(0.1f + 0.9f * 0.8535534f, cosine.Factor(6), 1e-6f);
        Assert.Equal(0.55f, cosine.Factor(8), 1e-6f);
        Assert.Equal(0.1f, cosine.Factor(12), 1e-6f);
    }

    // 20 000 bf16 values at 1.0 take an SGD step of 1e-4, below half the bf16 spacing just under 1 (2⁻⁹):
    // round-to-nearest would leave every one at 1.0; stochastic rounding moves the mean by 1e-4. The mean of
    // 20 000 draws has a standard deviation of about 4e-6: |mean − (1 − 1e-4)| ≤ 2e-5.
    [Fact]
    public void Bf16_parameters_are_stochastically_rounded_unbiased()
    {
        const int n = 20_000;
        using var scope = TensorScope.Begin();
        var ones = new BFloat16[n];
        Array.Fill(ones, BFloat16.FromSingle(1f));
        var p = Tensor.FromArray(ones, new Shape(n));
        var g = Tensor.Full(new Shape(n), 1e-3f);
        CpuBackend.Instance.SgdUpdate(p.Address, DType.BFloat16, g.Address, 0, n, 0.1f, 0f, 0f, false, roundingSeed: 42, roundingOffset: 0);
        var after = p.ToFloatArray();
        Assert.Equal(1 - 1e-4, after.Average(v => (double)v), 2e-5);
        Assert.All(after, v => Assert.True(v is 1f or 0.99609375f, $"{v} is not a neighbour of 1 − 1e-4"));
    }
}

[Collection(LedgerCollection.Name)]
public class OptimizerMemoryTests
{
    [Fact]
    public void Adam_state_is_two_float32_moments_per_element_in_the_optimizer_category()
    {
        var ledger = CpuBackend.Instance.CpuAllocator.Ledger;
        long before = ledger.Current(MemoryCategory.OptimizerState);
        using var layer = new FixedFanInLinear(100, 1000, 16, DType.BFloat16);
        using var opt = new Adam([new ParameterGroup(layer.Parameters().Where(p => p.Trainable).ToArray(), 1e-3f)]);
        foreach (var p in layer.Parameters().Where(p => p.Trainable))
        {
            opt.State(p);
        }
        Assert.Equal(2L * 4 * (1000 * 16 + 1000), ledger.Current(MemoryCategory.OptimizerState) - before);
    }
}
