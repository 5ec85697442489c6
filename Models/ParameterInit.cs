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

    /// <summary>Fills the rows of a 2-D <paramref name="p"/> [rows, cols] uniformly in [−<paramref name="bound"/>,
    /// <paramref name="bound"/>) from Philox stream <paramref name="seed"/>, row r at block
    /// r·<see cref="Philox.BlocksFor"/>(cols), so any row can be reproduced on its own. Drawn on the host.</summary>
    public static void UniformRows(Parameter p, ulong seed, float bound)
    {
        ArgumentNullException.ThrowIfNull(p);
        var t = p.Data;
        int rows = t.Shape[0], cols = t.Shape[1];
        var w = new float[(long)rows * cols];
        ulong perRow = Philox.BlocksFor(cols);
        Parallel.For(0, rows, r => Philox.FillUniform(seed, (ulong)r * perRow, w.AsSpan((int)((long)r * cols), cols), -bound, bound));
        t.CopyFrom<float>(w);
    }

    /// <summary>Fills <paramref name="p"/> with <paramref name="value"/>.</summary>
    public static void Constant(Parameter p, float value)
    {
        ArgumentNullException.ThrowIfNull(p);
        p.Data.Backend.Fill(p.Data.Address, p.Data.Numel, value);
    }
}
