namespace Xmc.Engine.Backends;

/// <summary>How a float32 result is written to a low-precision store.</summary>
public enum RoundingMode
{
    /// <summary>To nearest, ties to even.</summary>
    Nearest,

    /// <summary>Up (in magnitude) with probability equal to the dropped fraction, from a Philox word per element
    /// (<see cref="BFloat16.FromSingleStochastic"/>, <see cref="Float8E4M3.FromSingleStochastic"/>).</summary>
    Stochastic,
}

/// <summary>The operands of one fused SGD update of a fixed fan-in layer (<see cref="IBackend.FixedFanInSgdUpdate"/>).
/// Every address is the base of the whole layer's tensor (slot s = l·k + j of label l), or 0 when absent.</summary>
/// <param name="LearningRate">The step's learning rate η.</param>
/// <param name="Momentum">μ; 0 = plain SGD (no momentum tensors read).</param>
/// <param name="ValueMomentum">BFloat16 [L, k] velocity of the values (written back rounded to nearest), or 0.</param>
/// <param name="BiasMomentum">Float32 [L] velocity of the bias, or 0.</param>
/// <param name="CompensationRows">Int32 [L]: the row of <paramref name="Compensation"/> that compensates label l,
/// or −1 for none; 0 = no label is compensated.</param>
/// <param name="Compensation">BFloat16 [C, k] Kahan compensation: the part of each compensated value's float32
/// result that its storage could not hold (rounded to nearest), added to the next update.</param>
/// <param name="Rounding">How the new values are stored (Float32 values are stored exactly).</param>
/// <param name="Seed">Philox stream of stochastic rounding.</param>
/// <param name="RoundingOffset">First block of this step's draw: slot s reads word s of the draw starting there
/// (<see cref="Philox.Word"/>), so the bits depend only on (seed, step, slot) and both devices draw the same.</param>
/// <param name="LossSum">The Float32 running loss sum of the chunked loss: when it is not finite (read before
/// the update) nothing is updated.</param>
public readonly record struct FixedFanInSgdArgs(float LearningRate, float Momentum, nint ValueMomentum, nint BiasMomentum,
    nint CompensationRows, nint Compensation, RoundingMode Rounding, ulong Seed, ulong RoundingOffset, nint LossSum);

public partial interface IBackend
{
    /// <summary>The fused SGD update of labels <paramref name="labelStart"/> … + <paramref name="labels"/> − 1 of a
    /// fixed fan-in layer, from their logit gradient deltaT [labels, batch] (label-major, already divided by the
    /// batch): for every slot s = l·k + j, g = Σ_b deltaT[l,b]·xT[indices[s], b]; with momentum u = μ·u + g (BF16
    /// store), step = u, else step = g; t = value[s] − η·step (+ the compensation c of a compensated label, whose new
    /// c is t − stored(t)); value[s] = round(t) in its storage type. The bias (Float32, 0 = none) takes the same SGD
    /// with g_b = Σ_b deltaT[l,b] and a Float32 velocity. No gradient buffer exists. Skips everything when the loss
    /// sum at <see cref="FixedFanInSgdArgs.LossSum"/> is not finite. Unlike the other kernels, <paramref name="values"/>,
    /// <paramref name="indices"/> and <paramref name="bias"/> are the layer's bases, not offset to the range.</summary>
    void FixedFanInSgdUpdate(nint xT, nint deltaT, int batch, nint values, DType valueType, nint indices, DType indexType,
        nint bias, long labelStart, long labels, int fanIn, in FixedFanInSgdArgs args);
}
