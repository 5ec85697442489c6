using Xmc.Engine;

namespace Xmc.Models;

/// <summary>Initial values written straight into a parameter's buffer on its own device.</summary>
public static class ParameterInit
{
    /// <summary>Fills <paramref name="p"/> with N(0, <paramref name="std"/>²) from the next blocks of
    /// <paramref name="rng"/>, so a model built twice from the same stream is identical.</summary>
    public static void Normal(Parameter p, PhiloxStream rng, float std)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(rng);
        var t = p.Data;
        t.Backend.FillNormal(t.Address, t.Numel, rng.Seed, rng.Reserve(t.Numel), 0f, std);
    }

    /// <summary>Fills <paramref name="p"/> with <paramref name="value"/>.</summary>
    public static void Constant(Parameter p, float value)
    {
        ArgumentNullException.ThrowIfNull(p);
        p.Data.Backend.Fill(p.Data.Address, p.Data.Numel, value);
    }
}
