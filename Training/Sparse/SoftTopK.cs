using Xmc.Engine;

namespace Xmc.Training.Sparse;

/// <summary>Spartan's soft top-k mask per row, from entropic optimal transport between a row's d entries and the
/// two bins "kept" (mass K) and "dropped" (mass d − K), with costs −β|w_i| and 0. The Sinkhorn iterations of the
/// reference (μ = log K − logsumexp(z + ν), ν = −softplus(z + μ), σ = exp(z + μ + ν), z = β|w|) have the fixed
/// point σ_i = sigmoid(z_i + μ*) with μ* the one root of Σ_i sigmoid(z_i + μ) = K; this solves that scalar equation
/// directly (safeguarded Newton on μ, to float precision) instead of alternating the updates, so σ sums to the
/// budget exactly, not to the 1 % stopping tolerance. The backward is the implicit one: with s_i = σ_i(1 − σ_i),
/// dμ*/dz_j = −s_j / Σs, so for an incoming gradient g, ∂/∂z_j = s_j·(g_j − Σ_i s_i g_i / Σ_i s_i).</summary>
public static class SoftTopK
{
    /// <summary>σ of one row (<paramref name="w"/> → <paramref name="sigma"/>) for budget
    /// <paramref name="budget"/> ∈ (0, d] and inverse temperature <paramref name="beta"/>; K ≥ d gives all ones.</summary>
    public static void Forward(ReadOnlySpan<float> w, double budget, double beta, Span<float> sigma)
    {
        int d = w.Length;
        if (budget >= d)
        {
            sigma.Fill(1f);
            return;
        }
        if (budget <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(budget), budget, "soft top-k: the budget must be positive");
        }
        Span<double> z = d <= 4096 ? stackalloc double[d] : new double[d];
        double zMax = double.NegativeInfinity, zMin = double.PositiveInfinity, zSum = 0;
        for (int i = 0; i < d; i++)
        {
            z[i] = beta * Math.Abs(w[i]);
            zMax = Math.Max(zMax, z[i]);
            zMin = Math.Min(zMin, z[i]);
            zSum += z[i];
        }
        // f(μ) = Σ sigmoid(z + μ) − K is increasing, negative at μ = −zMax − 40 and positive at −zMin + 40; Newton
        // from the root for equal z (logit of K/d, shifted by the mean z), bisection whenever a step leaves the bracket
        double lo = -zMax - 40, hi = -zMin + 40, mu = Math.Log(budget / (d - budget)) - zSum / d;
        for (int iter = 0; iter < 200; iter++)
        {
            double f = -budget, df = 0;
            for (int i = 0; i < d; i++)
            {
                double s = Sigmoid(z[i] + mu);
                f += s;
                df += s * (1 - s);
            }
            if (f > 0)
            {
                hi = mu;
            }
            else
            {
                lo = mu;
            }
            if (Math.Abs(f) <= 1e-7 * budget || hi - lo < 1e-13 * Math.Max(1, Math.Abs(mu)))
            {
                break;
            }
            double next = df > 0 ? mu - f / df : double.NaN;
            mu = next > lo && next < hi ? next : (lo + hi) / 2;
        }
        for (int i = 0; i < d; i++)
        {
            sigma[i] = (float)Sigmoid(z[i] + mu);
        }
    }

    /// <summary>The vector–Jacobian product through σ(z): writes ∂L/∂z into <paramref name="gradZ"/> for
    /// ∂L/∂σ = <paramref name="gradSigma"/> (all zero when σ is all ones: the budget is the whole row).</summary>
    public static void BackwardZ(ReadOnlySpan<float> sigma, ReadOnlySpan<float> gradSigma, Span<float> gradZ)
    {
        double ss = 0, sg = 0;
        for (int i = 0; i < sigma.Length; i++)
        {
            double s = (double)sigma[i] * (1 - sigma[i]);
            ss += s;
            sg += s * gradSigma[i];
        }
        double mean = ss > 0 ? sg / ss : 0;
        for (int i = 0; i < sigma.Length; i++)
        {
            double s = (double)sigma[i] * (1 - sigma[i]);
            gradZ[i] = (float)(s * (gradSigma[i] - mean));
        }
    }

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>Spartan's weight for one step, recorded for autodiff: the forward is H⊙w with H the hard top-K
    /// of σ⊙|w| per row (K = round(<paramref name="budget"/>); σ is increasing in |w|, so these are the K largest
    /// |w|, ties to the lower column), the backward is that of σ(w)⊙w (straight-through):
    /// ∂/∂w = σ⊙G + β·sign(w)⊙VJP_z(w⊙G). <paramref name="sigma"/> and <paramref name="hard"/> (Float32 [L, d] CPU
    /// tensors) receive σ and H. <paramref name="w"/>: Float32 [L, d] on the CPU.</summary>
    /// <returns>The output, and how many entries of <paramref name="hard"/> changed.</returns>
    public static unsafe (Tensor Weight, long Changed) Apply(Tensor w, double budget, double beta, Tensor sigma, Tensor hard)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(sigma);
        ArgumentNullException.ThrowIfNull(hard);
        if (w.DType != DType.Float32 || w.Shape.Rank != 2 || w.Device.Kind != DeviceKind.Cpu || sigma.Shape != w.Shape || hard.Shape != w.Shape)
        {
            throw new ArgumentException($"soft top-k: needs a Float32 [L, d] weight on the CPU and σ, H of its shape, got {w.DType} {w.Shape} on {w.Device}");
        }
        int labels = w.Shape[0], d = w.Shape[1];
        int keep = (int)Math.Clamp(Math.Round(budget), 1, d);
        var y = Tensor.Empty(w.Shape, DType.Float32, w.Device);
        long changed = 0;
        float* pw = (float*)w.Address, ps = (float*)sigma.Address, ph = (float*)hard.Address, py = (float*)y.Address;
        Parallel.For(0, labels, () => (new ulong[d], new float[d], 0L), (l, _, local) =>
        {
            var (keys, marks, count) = local;
            long b = (long)l * d;
            var row = new ReadOnlySpan<float>(pw + b, d);
            Forward(row, budget, beta, new Span<float>(ps + b, d));
            for (int i = 0; i < d; i++)
            {
                keys[i] = ((ulong)~BitConverter.SingleToUInt32Bits(MathF.Abs(row[i])) << 32) | (uint)i;
                marks[i] = 0f;
            }
            if (keep < d)
            {
                Array.Sort(keys);
            }
            for (int t = 0; t < keep; t++)
            {
                marks[(int)(uint)keys[t]] = 1f;
            }
            for (int i = 0; i < d; i++)
            {
                count += ph[b + i] != marks[i] ? 1 : 0;
                ph[b + i] = marks[i];
                py[b + i] = marks[i] * row[i];
            }
            return (keys, marks, count);
        }, local => Interlocked.Add(ref changed, local.Item3));
        Autograd.Record(y, "spartan_weight", [w], [sigma], (g, node) =>
        {
            if (!node.NeedsGrad(0))
            {
                return [null];
            }
            var s = node.Saved(0);
            var weight = node.Inputs[0];
            var gw = Tensor.Empty(weight.Shape, DType.Float32, weight.Device);
            float* pg = (float*)g.Address, pgw = (float*)gw.Address, psig = (float*)s.Address, pwt = (float*)weight.Address;
            Parallel.For(0, labels, () => (new float[d], new float[d]), (l, _, scratch) =>
            {
                long b = (long)l * d;
                var (gs, gz) = scratch;
                for (int i = 0; i < d; i++)
                {
                    gs[i] = pg[b + i] * pwt[b + i];
                }
                BackwardZ(new ReadOnlySpan<float>(psig + b, d), gs, gz);
                for (int i = 0; i < d; i++)
                {
                    pgw[b + i] = psig[b + i] * pg[b + i] + (float)beta * MathF.Sign(pwt[b + i]) * gz[i];
                }
                return scratch;
            }, _ => { });
            return [gw];
        });
        return (y, changed);
    }
}
