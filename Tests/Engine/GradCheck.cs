using Xmc.Engine;

namespace Xmc.Tests.Engine;

/// <summary>Central finite-difference gradient checks in double-checked float32.</summary>
public static class GradCheck
{
    /// <summary>Checks the analytic gradients of <paramref name="f"/> (which must return a tensor; its weighted
    /// sum Σ w⊙f(x) is the scalar being differentiated, with fixed random weights w so every output element
    /// matters) against central differences with step <paramref name="eps"/>. Passes when, for every element,
    /// |analytic − numeric| ≤ atol + rtol·|numeric|. Returns a failure description or null.</summary>
    public static string? Check(Func<Tensor[], Tensor> f, float[][] inputs, Shape[] shapes,
        float eps = 1e-2f, float atol = 2e-3f, float rtol = 2e-2f, int seed = 17, bool[]? differentiable = null)
    {
        using var scope = TensorScope.Begin();
        var rng = new System.Random(seed);
        int n = inputs.Length;
        differentiable ??= Enumerable.Repeat(true, n).ToArray();

        // Analytic
        var xs = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            xs[i] = Tensor.FromArray(inputs[i], shapes[i]);
            xs[i].RequiresGrad = differentiable[i];
        }
        var y = f(xs);
        var w = new float[y.Numel];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        var wt = Tensor.FromArray(w, y.Shape);
        var loss = Ops.Sum(Ops.Mul(y, wt));
        loss.Backward();
        var analytic = new float[n][];
        for (int i = 0; i < n; i++)
        {
            analytic[i] = differentiable[i] ? (xs[i].Grad?.ToArray<float>() ?? new float[inputs[i].Length]) : [];
            xs[i].ZeroGrad();
        }

        double Eval(int which, int idx, float delta)
        {
            using var inner = TensorScope.Begin();
            using var _ = Autograd.NoGrad();
            var args = new Tensor[n];
            for (int i = 0; i < n; i++)
            {
                var data = (float[])inputs[i].Clone();
                if (i == which)
                {
                    data[idx] += delta;
                }
                args[i] = Tensor.FromArray(data, shapes[i]);
            }
            var yy = f(args).ToArray<float>();
            double s = 0;
            for (int k = 0; k < yy.Length; k++)
            {
                s += (double)yy[k] * w[k];
            }
            return s;
        }

        for (int i = 0; i < n; i++)
        {
            if (!differentiable[i])
            {
                continue;
            }
            for (int j = 0; j < inputs[i].Length; j++)
            {
                double num = (Eval(i, j, eps) - Eval(i, j, -eps)) / (2 * eps);
                double an = analytic[i][j];
                if (!(Math.Abs(an - num) <= atol + rtol * Math.Abs(num)))
                {
                    return $"input {i} {shapes[i]} element {j}: analytic {an:G6}, numeric {num:G6}";
                }
            }
        }
        return null;
    }
}
