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

    private const double TwoOverSqrtPi = 1.1283791670955126;
}
