using Xmc.Engine.Memory;

namespace Xmc.Engine;

public static partial class Ops
{
    /// <summary>A new float32 tensor of uniforms in [lo, hi) from the next blocks of <paramref name="rng"/>,
    /// drawn on the device itself (see <see cref="Philox.FillUniform"/>).</summary>
    public static Tensor Uniform(Shape shape, float lo, float hi, PhiloxStream rng, Device? device = null, MemoryCategory? category = null)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var t = Tensor.Empty(shape, DType.Float32, device, category);
        t.Backend.FillUniform(t.Address, t.Numel, rng.Seed, rng.Reserve(t.Numel), lo, hi);
        return t;
    }

    /// <summary>A new float32 tensor of N(mean, std²) normals from the next blocks of <paramref name="rng"/>
    /// (see <see cref="Philox.FillNormal"/>).</summary>
    public static Tensor Normal(Shape shape, float mean, float std, PhiloxStream rng, Device? device = null, MemoryCategory? category = null)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var t = Tensor.Empty(shape, DType.Float32, device, category);
        t.Backend.FillNormal(t.Address, t.Numel, rng.Seed, rng.Reserve(t.Numel), mean, std);
        return t;
    }
}
