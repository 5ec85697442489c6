using Xmc.Engine;
using Xmc.Engine.Memory;
using Xmc.Models;
using Xmc.Training.Sparse;

namespace Xmc.Training.Optim;

/// <summary>The common part of the optimizers: parameter groups, the learning-rate schedule, the step count,
/// and per-parameter state tensors (Float32, the parameter's shape, OptimizerState category, created zero on
/// first use). Each parameter is updated by one fused backend kernel. BFloat16 parameters are updated with
/// stochastic rounding (docs/optimizers.md).</summary>
public abstract class Optimizer : IDisposable, ISlotStateProvider
{
    private readonly Dictionary<Parameter, Tensor[]> _state = new(ReferenceEqualityComparer.Instance);
    private readonly int _slotsPerParameter;

    protected Optimizer(IEnumerable<ParameterGroup> groups, int slotsPerParameter, LearningRateSchedule? schedule, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(groups);
        Groups = groups.ToArray();
        _slotsPerParameter = slotsPerParameter;
        Schedule = schedule;
        Seed = seed;
    }

    /// <summary>Float32 state tensors the optimizer keeps per trainable parameter (Adam 2, SGD with momentum 1).</summary>
    public int SlotsPerParameter => _slotsPerParameter;

    /// <summary>The groups, in the order given.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>The schedule, or null for constant rates.</summary>
    public LearningRateSchedule? Schedule { get; }

    /// <summary>Stream of the stochastic-rounding bits.</summary>
    public ulong Seed { get; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>Sets the step counter when a run resumes from a checkpoint (the schedule and Adam's bias
    /// correction continue from there).</summary>
    public void RestoreStepCount(long steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        StepCount = steps;
    }

    /// <summary>The learning rate group <paramref name="group"/> uses at the next step.</summary>
    public float CurrentLearningRate(int group) => Groups[group].LearningRate * (Schedule?.Factor(StepCount) ?? 1f);

    /// <summary>Updates every trainable parameter that has a gradient. Stochastic-rounding bits: Philox stream
    /// <see cref="Seed"/>; step s gives every parameter of every group, in order, its own
    /// <see cref="Philox.BlocksFor"/>(numel) blocks, laid end to end from block s·(their sum), so a step and a
    /// parameter fix the offset and a resumed run draws the same bits.</summary>
    public void Step()
    {
        ulong perStep = 0;
        foreach (var g in Groups)
        {
            foreach (var p in g.Parameters)
            {
                perStep += Philox.BlocksFor(p.Data.Numel);
            }
        }
        ulong roundingOffset = (ulong)StepCount * perStep;
        for (int gi = 0; gi < Groups.Count; gi++)
        {
            float lr = CurrentLearningRate(gi);
            var group = Groups[gi];
            for (int pi = 0; pi < group.Parameters.Count; pi++)
            {
                var p = group.Parameters[pi];
                ulong blocks = Philox.BlocksFor(p.Data.Numel);
                if (p.Trainable && p.Grad is not null)
                {
                    Update(p, State(p), group, lr, StepCount + 1, Seed, roundingOffset);
                }
                roundingOffset += blocks;
            }
        }
        StepCount++;
    }

    /// <summary>Applies the update to one parameter; <paramref name="step"/> counts from 1.</summary>
    protected abstract void Update(Parameter p, Tensor[] state, ParameterGroup group, float lr, long step, ulong roundingSeed, ulong roundingOffset);

    /// <summary>The state tensors of <paramref name="p"/> (empty for stateless updates), created zero.</summary>
    public Tensor[] State(Parameter p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (!_state.TryGetValue(p, out var s))
        {
            s = new Tensor[_slotsPerParameter];
            for (int i = 0; i < s.Length; i++)
            {
                s[i] = Tensor.CreateUntracked(p.Shape, DType.Float32, p.Data.Device, MemoryCategory.OptimizerState);
            }
            _state[p] = s;
        }
        return s;
    }

    /// <summary>The state tensors of <paramref name="p"/> created so far (a DST update moves them with the slots).</summary>
    public IReadOnlyList<Tensor> SlotState(Parameter p) => _state.TryGetValue(p, out var s) ? s : [];

    /// <summary>Frees every group's gradients.</summary>
    public void ZeroGrad()
    {
        foreach (var g in Groups)
        {
            foreach (var p in g.Parameters)
            {
                p.ZeroGrad();
            }
        }
    }

    /// <summary>Frees the state.</summary>
    public void Dispose()
    {
        foreach (var s in _state.Values)
        {
            foreach (var t in s)
            {
                t.Dispose();
            }
        }
        _state.Clear();
        GC.SuppressFinalize(this);
    }
}
