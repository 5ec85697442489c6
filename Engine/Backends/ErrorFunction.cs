using System.Runtime.Intrinsics;

namespace Xmc.Engine.Backends;

/// <summary>The error function and its complement to float accuracy (about 1e-7), for the exact GELU.
/// .NET has no erf; CUDA kernels use the device's own erff/erfcf.</summary>
internal static class ErrorFunction
{
    /// <summary>erf(x). Near zero a Taylor series keeps the relative error small; elsewhere 1 − erfc(x).</summary>
    public static double Erf(double x)
    {
        if (Math.Abs(x) < 0.5)
        {
            // erf(x) = 2/√π · Σ (−1)ⁿ x^(2n+1) / (n!·(2n+1)); eight terms reach 1e-9 relative at |x| = 0.5.
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 8; n++)
            {
                term *= -x2 / n;
                sum += term / (2 * n + 1);
            }
            return sum * TwoOverSqrtPi;
        }
        return 1.0 - Erfc(x);
    }

    /// <summary>erfc(x) = 1 − erf(x) with fractional error below 1.2e-7 for every x (a Chebyshev fit of
    /// erfc(z)·exp(z²) in t = 1/(1 + z/2), from Numerical Recipes), so far tails keep their relative accuracy.</summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
        double r = t * Math.Exp(-z * z + poly);
        return x >= 0 ? r : 2.0 - r;
    }

    /// <summary><see cref="Erfc(double)"/> on eight lanes: the same fit, the same accuracy.</summary>
    public static Vector512<double> Erfc(Vector512<double> x)
    {
        var z = Vector512.Abs(x);
        var t = Vector512<double>.One / (Vector512<double>.One + Vector512.Create(0.5) * z);
        var poly = Vector512.Create(0.17087277);
        foreach (double c in Coefficients)
        {
            poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(c));
        }
        var r = t * Vector512.Exp(poly - z * z);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<double>.Zero), r, Vector512.Create(2.0) - r);
    }

    /// <summary><see cref="Erfc(double)"/> on four lanes: the same fit, the same accuracy.</summary>
    public static Vector256<double> Erfc(Vector256<double> x)
    {
        var z = Vector256.Abs(x);
        var t = Vector256<double>.One / (Vector256<double>.One + Vector256.Create(0.5) * z);
        var poly = Vector256.Create(0.17087277);
        foreach (double c in Coefficients)
        {
            poly = Vector256.FusedMultiplyAdd(poly, t, Vector256.Create(c));
        }
        var r = t * Vector256.Exp(poly - z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<double>.Zero), r, Vector256.Create(2.0) - r);
    }

    /// <summary>The standard normal CDF Φ(v) = ½·erfc(−v/√2) on eight float lanes: the fit of <see cref="Erfc(double)"/>
    /// in float32, its exponent −v²/2 (= −z²) formed from v by one fused multiply-add, so the far left tail keeps its
    /// relative accuracy (≈ 1e-6 at v = −8, from the rounding of that exponent).</summary>
    public static Vector256<float> NormalCdf(Vector256<float> v)
    {
        var z = Vector256.Abs(v) * Vector256.Create(0.70710678f);
        var t = Vector256<float>.One / Vector256.FusedMultiplyAdd(Vector256.Create(0.5f), z, Vector256<float>.One);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(0.17087277f), t, Vector256.Create(-0.82215223f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(1.48851587f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-1.13520398f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.27886807f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-0.18628806f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.09678418f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(0.37409196f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(1.00002368f));
        p = Vector256.FusedMultiplyAdd(p, t, Vector256.Create(-1.26551223f));
        // ½·erfc(|v|/√2); the exponent is at most a rounding above 0 (p = 0 at v = 0, where erfc = 1)
        var half = Vector256.Create(0.5f) * t * Vector256.Exp(Vector256.FusedMultiplyAdd(Vector256.Create(-0.5f) * v, v, p));
        return Vector256.ConditionalSelect(Vector256.LessThanOrEqual(v, Vector256<float>.Zero), half, Vector256<float>.One - half);
    }

    // the fit's coefficients below the leading 0.17087277, highest power first (Horner order)
    private static ReadOnlySpan<double> Coefficients =>
        [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

    private const double TwoOverSqrtPi = 1.1283791670955126;
}
