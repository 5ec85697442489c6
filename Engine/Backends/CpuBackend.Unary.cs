using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private const double SqrtHalf = 0.70710678118654752;
    private const double InvSqrtTwoPi = 0.39894228040143268;
    private const double SqrtTwoOverPi = 0.79788456080286536;
    private const double GeluTanhCubic = 0.044715;

    // stack scratch of the backward's chunked TensorPrimitives passes: fits L1 with its operands
    private const int UnaryChunk = 512;

    private struct UnaryJob
    {
        public float* X, Gy, Y;
        public UnaryOp Op;
    }

    public void Unary(UnaryOp op, nint x, nint y, long n)
    {
        checked { _ = (int)n; }
        CheckUnaryOp(op);
        // the GELUs cost several times a copy per element: a part needs fewer elements to pay for a thread
        long work = op is UnaryOp.GeluErf or UnaryOp.GeluTanh ? 16 : 2;
        var job = new UnaryJob { X = (float*)x, Y = (float*)y, Op = op };
        CpuRanges.Run(CpuRanges.Parts(Threads, n, work), n, &UnaryRange, &job);
    }

    public void UnaryBackward(UnaryOp op, nint x, nint gy, nint gx, long n)
    {
        checked { _ = (int)n; }
        CheckUnaryOp(op);
        long work = op is UnaryOp.Relu ? 3 : 16;
        var job = new UnaryJob { X = (float*)x, Gy = (float*)gy, Y = (float*)gx, Op = op };
        CpuRanges.Run(CpuRanges.Parts(Threads, n, work), n, &UnaryBackwardRange, &job);
    }

    private static void UnaryRange(void* state, long start, long end, int part)
    {
        var job = (UnaryJob*)state;
        ApplyUnary(job->Op, job->X + start, job->Y + start, (int)(end - start));
    }

    private static void UnaryBackwardRange(void* state, long start, long end, int part)
    {
        var job = (UnaryJob*)state;
        ApplyUnaryBackward(job->Op, job->X + start, job->Gy + start, job->Y + start, (int)(end - start));
    }

    /// <summary>y = f(x) over n floats; y may be x.</summary>
    private static void ApplyUnary(UnaryOp op, float* x, float* y, int n)
    {
        var xs = new ReadOnlySpan<float>(x, n);
        var ys = new Span<float>(y, n);
        switch (op)
        {
            case UnaryOp.Relu: TensorPrimitives.Max(xs, 0f, ys); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(xs, ys); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(xs, ys); break;
            default: GeluForward(op == UnaryOp.GeluErf, x, y, n); break;
        }
    }

    /// <summary>gx = gy·f′(x) over n floats; gx may be x or gy.</summary>
    private static void ApplyUnaryBackward(UnaryOp op, float* x, float* gy, float* gx, int n)
    {
        switch (op)
        {
            case UnaryOp.Relu: ReluBackward(x, gy, gx, n); break;
            case UnaryOp.Tanh:
            case UnaryOp.Sigmoid: TanhSigmoidBackward(op == UnaryOp.Tanh, x, gy, gx, n); break;
            default: GeluBackward(op == UnaryOp.GeluErf, x, gy, gx, n); break;
        }
    }

    private static void ReluBackward(float* x, float* gy, float* gx, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var positive = Vector512.GreaterThan(Vector512.Load(x + i), Vector512<float>.Zero);
                Vector512.Store(Vector512.BitwiseAnd(positive, Vector512.Load(gy + i)), gx + i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var positive = Vector256.GreaterThan(Vector256.Load(x + i), Vector256<float>.Zero);
                Vector256.Store(Vector256.BitwiseAnd(positive, Vector256.Load(gy + i)), gx + i);
            }
        }
        for (; i < n; i++)
        {
            gx[i] = x[i] > 0 ? gy[i] : 0f;
        }
    }

    /// <summary>tanh′(x) = 4·σ(2x)·σ(−2x) and σ′(x) = σ(x)·σ(−x), in L1-sized chunks: products of two sigmoids keep
    /// their relative accuracy in the tails, where 1 − tanh² and σ·(1 − σ) in float would cancel.</summary>
    private static void TanhSigmoidBackward(bool tanh, float* x, float* gy, float* gx, int n)
    {
        Span<float> up = stackalloc float[UnaryChunk];
        Span<float> down = stackalloc float[UnaryChunk];
        float k = tanh ? 2f : 1f;
        for (int i = 0; i < n; i += UnaryChunk)
        {
            int len = Math.Min(UnaryChunk, n - i);
            Span<float> a = up[..len], b = down[..len];
            var xs = new ReadOnlySpan<float>(x + i, len);
            TensorPrimitives.Multiply(xs, k, a);
            TensorPrimitives.Multiply(xs, -k, b);
            TensorPrimitives.Sigmoid(a, a);
            TensorPrimitives.Sigmoid(b, b);
            TensorPrimitives.Multiply(a, b, a);
            if (tanh)
            {
                TensorPrimitives.Multiply(a, 4f, a);
            }
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(gy + i, len), a, new Span<float>(gx + i, len));
        }
    }

    // The GELUs run on float lanes: 16 with AVX-512, 8 with AVX2 and FMA; the scalar path (and the tail of the tanh
    // form) computes in double. The exact form is Gelu512's divide-free fit (≈ 5e-7 relative) or Gelu256, the same fit
    // on 8 lanes; the tanh form is x·σ(2u) with σ and σ(1 − σ) from e = exp(−|2u|) (Exp512 or Exp256), so neither
    // meets a 1 − σ cancellation.

    private static void GeluForward(bool exact, float* x, float* y, int n)
    {
        if (exact && Gelu512.IsSupported)
        {
            Gelu512.Forward(x, y, n);
            return;
        }
        if (exact && Gelu256.IsSupported)
        {
            Gelu256.Forward(x, y, n);
            return;
        }
        int i = 0;
        if (!exact && Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(GeluTanh(Vector512.Load(x + i)), y + i);
            }
        }
        else if (!exact && Gelu256.IsSupported)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(GeluTanh(Vector256.Load(x + i)), y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = (float)Gelu(exact, x[i]);
        }
    }

    private static void GeluBackward(bool exact, float* x, float* gy, float* gx, int n)
    {
        if (exact && Gelu512.IsSupported)
        {
            Gelu512.Backward(x, gy, gx, n);
            return;
        }
        if (exact && Gelu256.IsSupported)
        {
            Gelu256.Backward(x, gy, gx, n);
            return;
        }
        int i = 0;
        if (!exact && Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512.Store(GeluTanhDerivative(Vector512.Load(x + i)) * Vector512.Load(gy + i), gx + i);
            }
        }
        else if (!exact && Gelu256.IsSupported)
        {
            for (; i + 8 <= n; i += 8)
            {
                Vector256.Store(GeluTanhDerivative(Vector256.Load(x + i)) * Vector256.Load(gy + i), gx + i);
            }
        }
        for (; i < n; i++)
        {
            gx[i] = (float)(gy[i] * GeluDerivative(exact, x[i]));
        }
    }

    // exact: x·½·erfc(−x/√2). tanh form: ½x·(1 + tanh u) = x·σ(2u), u = √(2/π)·(x + 0.044715x³), which has no
    // cancellation for large negative x.
    private static double Gelu(bool exact, double v) => exact
        ? v * 0.5 * ErrorFunction.Erfc(-v * SqrtHalf)
        : v / (1.0 + Math.Exp(-2.0 * SqrtTwoOverPi * (v + GeluTanhCubic * v * v * v)));

    // exact: Φ(x) + x·φ(x). tanh form, with s = σ(2u): s + x·2s(1 − s)·u′ (since 1 − tanh² u = 4s(1 − s)).
    private static double GeluDerivative(bool exact, double v)
    {
        if (exact)
        {
            return 0.5 * ErrorFunction.Erfc(-v * SqrtHalf) + v * InvSqrtTwoPi * Math.Exp(-0.5 * v * v);
        }
        double s = 1.0 / (1.0 + Math.Exp(-2.0 * SqrtTwoOverPi * (v + GeluTanhCubic * v * v * v)));
        return s + v * 2.0 * s * (1.0 - s) * SqrtTwoOverPi * (1.0 + 3.0 * GeluTanhCubic * v * v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GeluTanh(Vector512<float> v)
        => v * Sigmoid(Vector512.Create((float)(2.0 * SqrtTwoOverPi)) * TanhArgument(v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeluTanh(Vector256<float> v)
        => v * Sigmoid(Vector256.Create((float)(2.0 * SqrtTwoOverPi)) * TanhArgument(v));

    /// <summary>σ(a) from e = exp(−|a|) ≤ 1: 1/(1 + e) for a ≥ 0, e/(1 + e) below, so exp never overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> a)
    {
        var e = Exp512.NonPositive(-Vector512.Abs(a));
        var inv = Vector512<float>.One / (Vector512<float>.One + e);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512<float>.Zero), inv, e * inv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sigmoid(Vector256<float> a)
    {
        var e = Exp256.NonPositive(-Vector256.Abs(a));
        var inv = Vector256<float>.One / (Vector256<float>.One + e);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256<float>.Zero), inv, e * inv);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TanhArgument(Vector512<float> v) =>
        Vector512.FusedMultiplyAdd(Vector512.Create((float)GeluTanhCubic) * v * v, v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TanhArgument(Vector256<float> v) =>
        Vector256.FusedMultiplyAdd(Vector256.Create((float)GeluTanhCubic) * v * v, v, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GeluTanhDerivative(Vector512<float> v)
    {
        // s = σ(a) and s(1 − s) = e/(1 + e)² from e = exp(−|a|): no 1 − s cancellation where s is near 1
        var a = Vector512.Create((float)(2.0 * SqrtTwoOverPi)) * TanhArgument(v);
        var e = Exp512.NonPositive(-Vector512.Abs(a));
        var inv = Vector512<float>.One / (Vector512<float>.One + e);
        var s = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512<float>.Zero), inv, e * inv);
        var slope = Vector512.Create((float)SqrtTwoOverPi) * Vector512.FusedMultiplyAdd(Vector512.Create((float)(3.0 * GeluTanhCubic)) * v, v, Vector512<float>.One);
        return Vector512.FusedMultiplyAdd(Vector512.Create(2f) * v * (e * inv * inv), slope, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeluTanhDerivative(Vector256<float> v)
    {
        // as on 16 lanes: s(1 − s) = e/(1 + e)², where 1 − s in float loses all of s(1 − s)'s digits as s nears 1
        var a = Vector256.Create((float)(2.0 * SqrtTwoOverPi)) * TanhArgument(v);
        var e = Exp256.NonPositive(-Vector256.Abs(a));
        var inv = Vector256<float>.One / (Vector256<float>.One + e);
        var s = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256<float>.Zero), inv, e * inv);
        var slope = Vector256.Create((float)SqrtTwoOverPi) * Vector256.FusedMultiplyAdd(Vector256.Create((float)(3.0 * GeluTanhCubic)) * v, v, Vector256<float>.One);
        return Vector256.FusedMultiplyAdd(Vector256.Create(2f) * v * (e * inv * inv), slope, s);
    }
}
