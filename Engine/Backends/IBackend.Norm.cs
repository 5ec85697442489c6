namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>LayerNorm of each row of a [rows, cols] matrix: y = γ ⊙ (x − μ)·rstd + β with μ the row mean,
    /// rstd = 1/√(σ² + eps) and σ² the biased row variance. Writes μ and rstd ([rows] each) for the backward.</summary>
    void LayerNorm(nint x, nint gamma, nint beta, nint y, nint mean, nint rstd, long rows, long cols, float eps);

    /// <summary>Backward of <see cref="LayerNorm"/>. With x̂ = (x − μ)·rstd and h = γ ⊙ dy:
    /// dx = rstd·(h − mean(h) − x̂·mean(h ⊙ x̂)), dγ = Σ_rows dy ⊙ x̂, dβ = Σ_rows dy. Each of
    /// <paramref name="dx"/>, <paramref name="dgamma"/>, <paramref name="dbeta"/> may be 0 when not needed;
    /// the ones given are overwritten.</summary>
    void LayerNormBackward(nint x, nint gamma, nint mean, nint rstd, nint dy, nint dx, nint dgamma, nint dbeta,
        long rows, long cols);
}
