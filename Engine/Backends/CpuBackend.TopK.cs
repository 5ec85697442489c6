namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void TopK(nint x, nint values, nint indices, long rows, long cols, int k)
    {
        if (k == 0)
        {
            return;
        }
        for (long r = 0; r < rows; r++)
        {
            float* xr = (float*)x + r * cols;
            var vals = new Span<float>((float*)values + r * k, k);
            var idx = new Span<int>((int*)indices + r * k, k);
            // Sorted insertion into the k slots; scanning columns in increasing order and inserting after equal
            // values keeps ties in index order. Most entries lose to the current k-th and cost one comparison.
            int filled = 0;
            for (int c = 0; c < cols; c++)
            {
                float v = xr[c];
                if (filled == k && !Beats(v, vals[k - 1]))
                {
                    continue;
                }
                int at = filled == k ? k - 1 : filled;
                while (at > 0 && Beats(v, vals[at - 1]))
                {
                    at--;
                }
                int last = filled == k ? k - 1 : filled;
                for (int s = last; s > at; s--)
                {
                    vals[s] = vals[s - 1];
                    idx[s] = idx[s - 1];
                }
                vals[at] = v;
                idx[at] = c;
                if (filled < k)
                {
                    filled++;
                }
            }
        }
    }

    /// <summary>Strictly greater, with NaN below every number (and not above another NaN).</summary>
    private static bool Beats(float a, float b) => a > b || (float.IsNaN(b) && !float.IsNaN(a));
}
