using Xmc.Engine.Backends;

namespace Xmc.Engine;

/// <summary>One step of the fused SGD update that <see cref="Ops.FixedFanInBceLossSgd"/> applies to a fixed fan-in
/// layer's values and bias inside its chunked loss (<see cref="IBackend.FixedFanInSgdUpdate"/>).</summary>
/// <param name="LearningRate">η of this step.</param>
/// <param name="Momentum">μ in [0, 1); 0 = plain SGD.</param>
/// <param name="ValueMomentum">BFloat16 [L, k] velocity when μ &gt; 0, else null.</param>
/// <param name="BiasMomentum">Float32 [L] velocity when μ &gt; 0 and the layer has a bias, else null.</param>
/// <param name="CompensationRows">Int32 [L] Kahan row of each label (−1 = none), or null.</param>
/// <param name="Compensation">BFloat16 [C, k] Kahan compensation, with <paramref name="CompensationRows"/>.</param>
/// <param name="Rounding">How the new values are stored.</param>
/// <param name="Seed">Philox stream of stochastic rounding.</param>
/// <param name="Step">0-based step: slot s of the layer rounds with word s of the draw at block
/// <c>Step · BlocksFor(L·k)</c>.</param>
public sealed record FixedFanInSgd(float LearningRate, float Momentum, Tensor? ValueMomentum, Tensor? BiasMomentum,
    Tensor? CompensationRows, Tensor? Compensation, RoundingMode Rounding, ulong Seed, long Step)
{
    /// <summary>Checks the state against the layer and builds the kernel's operands.</summary>
    internal FixedFanInSgdArgs Args(string op, Tensor values, Tensor? bias, nint lossSum)
    {
        int labels = values.Shape[0], fanIn = values.Shape[1];
        if (!float.IsFinite(LearningRate) || LearningRate < 0 || !(Momentum >= 0 && Momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), $"{op}: need a finite learning rate ≥ 0 and momentum in [0, 1), got {LearningRate} and {Momentum}");
        }
        if ((Momentum > 0) != (ValueMomentum is not null) || (Momentum > 0 && bias is not null) != (BiasMomentum is not null))
        {
            throw new ArgumentException($"{op}: momentum {Momentum} needs exactly the velocity tensors (values{(bias is null ? "" : " and bias")}), and none without momentum");
        }
        Expect(op, ValueMomentum, DType.BFloat16, values.Shape, values, "value velocity");
        Expect(op, BiasMomentum, DType.Float32, new Shape(labels), values, "bias velocity");
        if ((CompensationRows is null) != (Compensation is null))
        {
            throw new ArgumentException($"{op}: the Kahan compensation needs both its row map and its rows");
        }
        Expect(op, CompensationRows, DType.Int32, new Shape(labels), values, "compensation row map");
        if (Compensation is not null)
        {
            Expect(op, Compensation, DType.BFloat16, new Shape(Compensation.Shape[0], fanIn), values, "compensation");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(Step);
        return new FixedFanInSgdArgs(LearningRate, Momentum, ValueMomentum?.Address ?? 0, bias is null ? 0 : BiasMomentum?.Address ?? 0,
            CompensationRows?.Address ?? 0, Compensation?.Address ?? 0, Rounding, Seed,
            (ulong)Step * Philox.BlocksFor((long)labels * fanIn), lossSum);
    }

    private static void Expect(string op, Tensor? t, DType dtype, Shape shape, Tensor values, string what)
    {
        if (t is null)
        {
            return;
        }
        Check.Live(op, t);
        Check.SameDevice(op, values, t);
        if (t.DType != dtype || t.Shape != shape)
        {
            throw new ArgumentException($"{op}: the {what} must be {dtype} {shape}, got {t.DType} {t.Shape}");
        }
    }
}
