using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Optim;

/// <summary>Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay, PyTorch's
/// formulation (no dampening): u = μ·u + g, step = g + μ·u (Nesterov) or u.</summary>
public sealed class Sgd(IEnumerable<ParameterGroup> groups, float momentum = 0f, bool nesterov = false, LearningRateSchedule? schedule = null, ulong seed = 0)
    : Optimizer(groups, momentum == 0f ? 0 : 1, schedule, seed)
{
    /// <summary>μ.</summary>
    public float Momentum { get; } = momentum;

    /// <summary>Whether the step looks ahead along the momentum.</summary>
    public bool Nesterov { get; } = nesterov;

    protected override void Update(Parameter p, Tensor[] state, ParameterGroup group, float lr, long step, ulong roundingSeed, ulong roundingOffset)
        => p.Data.Backend.SgdUpdate(p.Data.Address, p.DType, p.Grad!.Address, state.Length == 0 ? 0 : state[0].Address, p.Data.Numel,
            lr, Momentum, group.WeightDecay, Nesterov, roundingSeed, roundingOffset);
}
