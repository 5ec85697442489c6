using Xmc.Engine;
using Xmc.Engine.Memory;

namespace Xmc.Models;

public sealed partial class FixedFanInLinear
{
    private FixedFanInSgd? _prepared;

    /// <summary>The fused SGD update this layer trains itself with, or null when an optimizer trains it.</summary>
    public FusedSgdSettings? FusedSgd { get; }

    /// <summary>BFloat16 [L, k] velocity of the values (fused SGD with momentum; not trainable, OptimizerState,
    /// saved with the model so a resumed run continues exactly), else null.</summary>
    public Parameter? ValueVelocity { get; }

    /// <summary>Float32 [L] velocity of the bias (fused SGD with momentum), else null.</summary>
    public Parameter? BiasVelocity { get; }

    /// <summary>Int32 [L]: each label's row of <see cref="Compensation"/>, −1 for none (fused SGD with a Kahan
    /// fraction), else null.</summary>
    public Parameter? CompensationRows { get; }

    /// <summary>BFloat16 [C, k] Kahan compensation of the C most frequent labels' values, else null.</summary>
    public Parameter? Compensation { get; }

    private (Parameter?, Parameter?, Parameter?, Parameter?) RegisterFusedState(FusedSgdSettings s, Device dev)
    {
        if (!(s.Momentum >= 0 && s.Momentum < 1) || !(s.KahanFraction >= 0 && s.KahanFraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(s), $"FixedFanInLinear: fused SGD needs momentum in [0, 1) and a Kahan fraction in [0, 1], got {s.Momentum} and {s.KahanFraction}");
        }
        Parameter? u = null, ub = null, rows = null, comp = null;
        if (s.Momentum > 0)
        {
            u = Register("values_velocity", new Parameter(new Shape(Labels, FanIn), DType.BFloat16, dev, trainable: false, MemoryCategory.OptimizerState));
            if (Bias is not null)
            {
                ub = Register("bias_velocity", new Parameter(new Shape(Labels), DType.Float32, dev, trainable: false, MemoryCategory.OptimizerState));
            }
        }
        int c = s.CompensatedLabels(Labels);
        if (c > 0)
        {
            rows = Register("kahan_rows", new Parameter(new Shape(Labels), DType.Int32, dev, trainable: false, MemoryCategory.OptimizerState));
            comp = Register("kahan", new Parameter(new Shape(c, FanIn), DType.BFloat16, dev, trainable: false, MemoryCategory.OptimizerState));
            var map = new int[Labels];
            Array.Fill(map, -1);
            for (int i = 0; i < c; i++)
            {
                map[i] = i; // until CompensateLabels knows the frequencies: the first labels
            }
            rows.Data.CopyFrom<int>(map);
        }
        return (u, ub, rows, comp);
    }

    /// <summary>Gives the Kahan compensation rows to the <see cref="Compensation"/>.Shape[0] most frequent labels by
    /// <paramref name="labelCounts"/> (ties: the lower label), and clears the compensation. Nothing to do without
    /// compensation.</summary>
    public void CompensateLabels(IReadOnlyList<long> labelCounts)
    {
        ArgumentNullException.ThrowIfNull(labelCounts);
        if (Compensation is null)
        {
            return;
        }
        if (labelCounts.Count != Labels)
        {
            throw new ArgumentException($"FixedFanInLinear.CompensateLabels: {labelCounts.Count} counts for {Labels} labels", nameof(labelCounts));
        }
        int c = Compensation.Shape[0];
        var order = Enumerable.Range(0, Labels).OrderByDescending(l => labelCounts[l]).ThenBy(l => l).Take(c).ToArray();
        var map = new int[Labels];
        Array.Fill(map, -1);
        for (int i = 0; i < order.Length; i++)
        {
            map[order[i]] = i;
        }
        CompensationRows!.Data.CopyFrom<int>(map);
        Compensation.Data.Backend.Zero(Compensation.Data.Address, Compensation.Data.Bytes);
    }

    /// <summary>Makes the next <see cref="Loss"/> take the fused SGD step of global step <paramref name="step"/>
    /// (0-based; it fixes the stochastic-rounding bits) with learning rate <paramref name="learningRate"/>.</summary>
    public void PrepareUpdate(float learningRate, long step)
    {
        var s = FusedSgd ?? throw new InvalidOperationException("FixedFanInLinear.PrepareUpdate: this layer is trained by an optimizer (no fused SGD settings)");
        _prepared = new FixedFanInSgd(learningRate, s.Momentum, ValueVelocity?.Data, BiasVelocity?.Data, CompensationRows?.Data,
            Compensation?.Data, s.Rounding, s.Seed, step);
    }

    private FixedFanInSgd? TakePreparedUpdate()
    {
        var p = _prepared;
        _prepared = null;
        return p;
    }

    /// <summary>The slot-aligned BFloat16 state of the fused update ([L, k] velocity, the compensation rows by
    /// label) moved after a rewiring: each slot whose input the row held before (<paramref name="oldIndices"/>,
    /// the rows' inputs before the update, row-major [L·k]) takes that slot's state; a new connection's state is 0.
    /// Rewiring never regrows an input it dropped, so an input kept is the same connection.</summary>
    public void FollowRewiring(int[] oldIndices)
    {
        ArgumentNullException.ThrowIfNull(oldIndices);
        if (ValueVelocity is null && Compensation is null)
        {
            return;
        }
        var now = IndicesToHost();
        int k = FanIn;
        BFloat16[]? u = ValueVelocity?.Data.ToArray<BFloat16>();
        BFloat16[]? comp = Compensation?.Data.ToArray<BFloat16>();
        int[]? rows = CompensationRows?.Data.ToArray<int>();
        Parallel.For(0, Labels, () => new BFloat16[k], (l, _, old) =>
        {
            long b = (long)l * k;
            if (u is not null)
            {
                MoveState(u, b, b, k, now, oldIndices, old);
            }
            if (comp is not null && rows![l] >= 0)
            {
                MoveState(comp, (long)rows[l] * k, b, k, now, oldIndices, old);
            }
            return old;
        }, _ => { });
        if (u is not null)
        {
            ValueVelocity!.Data.CopyFrom<BFloat16>(u);
        }
        if (comp is not null)
        {
            Compensation!.Data.CopyFrom<BFloat16>(comp);
        }
    }

    /// <summary>Row state at <paramref name="at"/> of k slots: slot j takes the old state of the slot that held its
    /// input (both rows ascending: one merge pass), else 0.</summary>
    private static void MoveState(BFloat16[] state, long at, long row, int k, int[] now, int[] before, BFloat16[] old)
    {
        Array.Copy(state, at, old, 0, k);
        int p = 0;
        for (int j = 0; j < k; j++)
        {
            int input = now[row + j];
            while (p < k && before[row + p] < input)
            {
                p++;
            }
            state[at + j] = p < k && before[row + p] == input ? old[p] : default;
        }
    }
}
