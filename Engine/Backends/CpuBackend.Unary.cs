using System.Numerics.Tensors;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    private const double SqrtHalf = 0.70710678118654752;
    private const double InvSqrtTwoPi = 0.39894228040143268;
    private const double SqrtTwoOverPi = 0.79788456080286536;
    private const double GeluTanhCubic = 0.044715;

    public void Unary(UnaryOp op, nint x, nint y, long n)
    {
        var xs = new ReadOnlySpan<float>((void*)x, checked((int)n));
        var ys = new Span<float>((void*)y, (int)n);
        switch (op)
        {
            case UnaryOp.Relu: TensorPrimitives.Max(xs, 0f, ys); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(xs, ys); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(xs, ys); break;
            case UnaryOp.GeluErf:
                for (int i = 0; i < xs.Length; i++)
                {
                    double v = xs[i];
                    ys[i] = (float)(v * 0.5 * ErrorFunction.Erfc(-v * SqrtHalf));
                }
                break;
            case UnaryOp.GeluTanh:
                for (int i = 0; i < xs.Length; i++)
                {
                    double v = xs[i];
                    ys[i] = (float)(0.5 * v * (1.0 + Math.Tanh(SqrtTwoOverPi * (v + GeluTanhCubic * v * v * v))));
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    public void UnaryBackward(UnaryOp op, nint x, nint gy, nint gx, long n)
    {
        int len = checked((int)n);
        float* px = (float*)x, pg = (float*)gy, po = (float*)gx;
        for (int i = 0; i < len; i++)
        {
            double v = px[i];
            double d = op switch
            {
                UnaryOp.Relu => v > 0 ? 1.0 : 0.0,
                UnaryOp.Tanh => TanhDerivative(v),
                UnaryOp.Sigmoid => SigmoidDerivative(v),
                UnaryOp.GeluErf => 0.5 * ErrorFunction.Erfc(-v * SqrtHalf) + v * InvSqrtTwoPi * Math.Exp(-0.5 * v * v),
                UnaryOp.GeluTanh => GeluTanhDerivative(v),
                _ => throw new ArgumentOutOfRangeException(nameof(op)),
            };
            po[i] = (float)(pg[i] * d);
        }
    }

    private static double TanhDerivative(double v)
    {
        double t = Math.Tanh(v);
        return 1.0 - t * t;
    }

    private static double SigmoidDerivative(double v)
    {
        double s = 1.0 / (1.0 + Math.Exp(-v));
        return s * (1.0 - s);
    }

    private static double GeluTanhDerivative(double v)
    {
        double t = Math.Tanh(SqrtTwoOverPi * (v + GeluTanhCubic * v * v * v));
        return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * SqrtTwoOverPi * (1.0 + 3.0 * GeluTanhCubic * v * v);
    }
}
