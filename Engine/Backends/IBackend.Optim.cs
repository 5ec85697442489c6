namespace Xmc.Engine.Backends;

/// <summary>Fused optimizer updates: one kernel reads a parameter's gradient and state and writes the new
/// parameter and state in one pass. Parameters are Float32 or BFloat16; gradients and state are Float32. A
/// BFloat16 parameter is updated in float32 and written back with stochastic rounding, so updates below half a
/// bf16 ulp still move it on average without a float32 master copy: element i adds the top 16 bits of word i of
/// the Philox draw (<c>roundingSeed</c>, <c>roundingOffset</c>) below the kept mantissa and truncates (the draw
/// spans <see cref="Philox.BlocksFor"/>(n) blocks).</summary>
public partial interface IBackend
{
    /// <summary>SGD over n elements: g' = g + weightDecay·p; with <paramref name="momentum"/> ≠ 0 (state
    /// <paramref name="velocity"/>): u = momentum·u + g', step = nesterov ? g' + momentum·u : u; else step = g';
    /// p −= lr·step.</summary>
    void SgdUpdate(nint param, DType paramType, nint grad, nint velocity, long n, float lr, float momentum,
        float weightDecay, bool nesterov, ulong roundingSeed, ulong roundingOffset);

    /// <summary>Adam over n elements at step t ≥ 1: with g' = g + weightDecay·p when not decoupled,
    /// m = β1·m + (1−β1)·g', v = β2·v + (1−β2)·g'², p −= lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε); decoupled (AdamW)
    /// first shrinks p by (1 − lr·weightDecay) and leaves g alone.</summary>
    void AdamUpdate(nint param, DType paramType, nint grad, nint m, nint v, long n, float lr, float beta1, float beta2,
        float eps, float weightDecay, bool decoupledWeightDecay, long step, ulong roundingSeed, ulong roundingOffset);
}
