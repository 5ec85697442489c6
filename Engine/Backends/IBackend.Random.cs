namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>dst[i] = lo + (hi − lo)·u(i) for i &lt; n, with u the Philox uniform of element i of the draw at
    /// (<paramref name="seed"/>, <paramref name="offset"/>) — see <see cref="Philox.FillUniform"/>.</summary>
    void FillUniform(nint dst, long n, ulong seed, ulong offset, float lo, float hi);

    /// <summary>dst[i] = mean + std·z(i), z the Box–Muller normals of <see cref="Philox.FillNormal"/>.</summary>
    void FillNormal(nint dst, long n, ulong seed, ulong offset, float mean, float std);

    /// <summary>Inverted dropout over n floats: y[i] = x[i]·(1 / (1 − p)) where the Philox uniform u(i) ≥ p,
    /// else 0. The keep test compares exact float32 values, so every backend drops the same elements; the scale
    /// is the float32 1f / (1f − p). Works in place (y = x). Also the backward: the mask depends only on
    /// (seed, offset, i), so applying it to the output gradient gives the input gradient.</summary>
    void Dropout(nint x, nint y, long n, float p, ulong seed, ulong offset);
}
