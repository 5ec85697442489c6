using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Optim;

/// <summary>Adam with bias correction; weight decay is either L2 added to the gradient (Adam) or decoupled,
/// shrinking the parameter by (1 − lr·decay) each step (AdamW, Loshchilov &amp; Hutter). State: first and
/// second moments, Float32, 8 bytes per parameter element.</summary>
public sealed class Adam(IEnumerable<ParameterGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
    bool decoupledWeightDecay = false, LearningRateSchedule? schedule = null, ulong seed = 0)
    : Optimizer(groups, 2, schedule, seed)
{
    /// <summary>AdamW: Adam with decoupled weight decay.</summary>
    public static Adam AdamW(IEnumerable<ParameterGroup> groups, float beta1 = 0.9f, float beta2 = 0.999f, float eps = 1e-8f,
        LearningRateSchedule? schedule = null, ulong seed = 0) => new(groups, beta1, beta2, eps, decoupledWeightDecay: true, schedule, seed);

    public float Beta1 { get; } = beta1;

    public float Beta2 { get; } = beta2;

    public float Eps { get; } = eps;

    public bool DecoupledWeightDecay { get; } = decoupledWeightDecay;

    protected override void Update(Parameter p, Tensor[] state, ParameterGroup group, float lr, long step, ulong roundingSeed, ulong roundingOffset)
        => p.Data.Backend.AdamUpdate(p.Data.Address, p.DType, p.Grad!.Address, state[0].Address, state[1].Address, p.Data.Numel,
            lr, Beta1, Beta2, Eps, group.WeightDecay, DecoupledWeightDecay, step, roundingSeed, roundingOffset);
}
