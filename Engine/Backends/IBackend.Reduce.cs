namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>y[c] = scale·Σ_r x[r,c]: reduces a [rows, cols] matrix over its rows to [cols].</summary>
    void ReduceRows(nint x, nint y, long rows, long cols, float scale);

    /// <summary>y[r] = scale·Σ_c x[r,c]: reduces a [rows, cols] matrix over its columns to [rows].</summary>
    void ReduceCols(nint x, nint y, long rows, long cols, float scale);

    /// <summary>y = scale·x + shift over <paramref name="n"/> floats (in place when y = x).</summary>
    void Affine(nint x, nint y, long n, float scale, float shift);
}

public partial interface IBackend
{
    /// <summary>Broadcasts a vector into a [rows, cols] matrix, times <paramref name="scale"/>:
    /// y[r,c] = scale·v[c] for <see cref="Broadcast.Row"/>, scale·v[r] for <see cref="Broadcast.Column"/>.
    /// (The backward of the reductions.)</summary>
    void Expand(nint v, nint y, long rows, long cols, Broadcast mode, float scale);
}
