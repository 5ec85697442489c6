using Xmc.Engine.Backends.Cpu;

namespace Xmc.Engine.Backends;

public sealed unsafe partial class CpuBackend
{
    public void BceWithLogitsLabelMajor(nint zT, long labels, int batch, long labelStart, nint positiveOffsets,
        nint positiveLabels, float gradScale, nint lossSum)
    {
        float* z = (float*)zT;
        int* off = (int*)positiveOffsets, lab = (int*)positiveLabels;
        // bce(z, 1) = bce(z, 0) − z and σ(z) − 1 = (σ(z) − 0) − 1: the dense pass treats every label as negative,
        // the positives of the chunk (few) are corrected before (loss, reading z) and after (gradient).
        double positiveCorrection = 0;
        ForPositivesInChunk(off, lab, batch, labelStart, labels, (l, b) => positiveCorrection -= z[l * batch + b]);
        // fixed blocks of labels, their partial sums added in block order: the loss does not depend on the
        // thread count or on which thread finished first
        const long blockLabels = 256;
        long blocks = (labels + blockLabels - 1) / blockLabels;
        var partials = new double[blocks];
        CpuVector.ForBlocks(blocks, 1, (b0, b1) =>
        {
            for (long blk = b0; blk < b1; blk++)
            {
                long l0 = blk * blockLabels, l1 = Math.Min(labels, l0 + blockLabels);
                partials[blk] = BceLogits.SoftplusSumAndScaledSigmoid((float*)zT + l0 * batch, (l1 - l0) * batch, gradScale);
            }
        });
        double total = 0;
        foreach (double partial in partials)
        {
            total += partial;
        }
        ForPositivesInChunk(off, lab, batch, labelStart, labels, (l, b) => z[l * batch + b] -= gradScale);
        *(float*)lossSum += (float)(total + positiveCorrection);
    }

    private static void ForPositivesInChunk(int* offsets, int* positives, int batch, long labelStart, long labels, Action<long, int> visit)
    {
        for (int b = 0; b < batch; b++)
        {
            // rows are sorted: skip to the chunk by binary search, stop at its end
            int lo = offsets[b], hi = offsets[b + 1];
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (positives[mid] < labelStart)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            for (int i = lo; i < offsets[b + 1] && positives[i] < labelStart + labels; i++)
            {
                visit(positives[i] - labelStart, b);
            }
        }
    }

    public void TopKUpdateLabelMajor(nint zT, long labels, int batch, long labelStart, int k, nint topScores, nint topLabels)
    {
        Parallel.For(0, batch, b =>
        {
            float* z = (float*)zT;
            float* ts = (float*)topScores + (long)b * k;
            int* tl = (int*)topLabels + (long)b * k;
            for (long l = 0; l < labels; l++)
            {
                float s = z[l * batch + b];
                if (!(s > ts[k - 1]))
                {
                    continue;
                }
                int pos = k - 1;
                while (pos > 0 && s > ts[pos - 1])
                {
                    ts[pos] = ts[pos - 1];
                    tl[pos] = tl[pos - 1];
                    pos--;
                }
                ts[pos] = s;
                tl[pos] = checked((int)(labelStart + l));
            }
        });
    }
}
