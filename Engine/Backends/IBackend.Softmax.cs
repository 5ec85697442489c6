namespace Xmc.Engine.Backends;

public partial interface IBackend
{
    /// <summary>Softmax (or log-softmax when <paramref name="log"/>) of each row of a [rows, cols] matrix,
    /// after adding an optional mask: row r adds mask row r / <paramref name="rowsPerMaskRow"/> ([rows /
    /// rowsPerMaskRow, cols]; <paramref name="mask"/> = 0 for none). Stable: the row maximum is subtracted first.
    /// A row whose every entry is −∞ gives NaN; masks should use a large finite negative such as −1e9.</summary>
    void Softmax(nint x, nint mask, nint y, long rows, long cols, long rowsPerMaskRow, bool log);

    /// <summary>Backward of <see cref="Softmax"/> from its output y and output gradient g:
    /// dx = y ⊙ (g − Σ g⊙y) for softmax, dx = g − exp(y)·Σ g for log-softmax (sums per row).</summary>
    void SoftmaxBackward(nint y, nint g, nint dx, long rows, long cols, bool log);
}
