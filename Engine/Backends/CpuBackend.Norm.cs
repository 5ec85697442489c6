namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void LayerNorm(nint x, nint gamma, nint beta, nint y, nint mean, nint rstd, long rows, long cols, float eps)
    {
        float* pg = (float*)gamma, pb = (float*)beta;
        for (long r = 0; r < rows; r++)
        {
            float* xr = (float*)x + r * cols, yr = (float*)y + r * cols;
            // two passes in double: exact enough for rows of large-magnitude activations
            double sum = 0;
            for (long c = 0; c < cols; c++)
            {
                sum += xr[c];
            }
            double mu = sum / cols;
            double sq = 0;
            for (long c = 0; c < cols; c++)
            {
                double d = xr[c] - mu;
                sq += d * d;
            }
            float rs = (float)(1.0 / Math.Sqrt(sq / cols + eps));
            float m = (float)mu;
            for (long c = 0; c < cols; c++)
            {
                yr[c] = pg[c] * ((xr[c] - m) * rs) + pb[c];
            }
            ((float*)mean)[r] = m;
            ((float*)rstd)[r] = rs;
        }
    }

    public void LayerNormBackward(nint x, nint gamma, nint mean, nint rstd, nint dy, nint dx, nint dgamma, nint dbeta,
        long rows, long cols)
    {
        float* pg = (float*)gamma, dg = (float*)dgamma, db = (float*)dbeta;
        if (dgamma != 0)
        {
            Zero(dgamma, cols * sizeof(float));
        }
        if (dbeta != 0)
        {
            Zero(dbeta, cols * sizeof(float));
        }
        for (long r = 0; r < rows; r++)
        {
            float* xr = (float*)x + r * cols, gr = (float*)dy + r * cols;
            float m = ((float*)mean)[r], rs = ((float*)rstd)[r];
            double sumH = 0, sumHx = 0;
            for (long c = 0; c < cols; c++)
            {
                float xhat = (xr[c] - m) * rs;
                float h = pg[c] * gr[c];
                sumH += h;
                sumHx += h * xhat;
                if (dg != null)
                {
                    dg[c] += gr[c] * xhat;
                }
                if (db != null)
                {
                    db[c] += gr[c];
                }
            }
            if (dx == 0)
            {
                continue;
            }
            float meanH = (float)(sumH / cols), meanHx = (float)(sumHx / cols);
            float* dr = (float*)dx + r * cols;
            for (long c = 0; c < cols; c++)
            {
                float xhat = (xr[c] - m) * rs;
                dr[c] = rs * (pg[c] * gr[c] - meanH - xhat * meanHx);
            }
        }
    }
}
