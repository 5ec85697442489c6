// Top-k per row of a [rows, cols] matrix: values sorted descending, ties to the lower column, NaN below every
// number. One thread per row keeps its k best in the output arrays by sorted insertion, scanning columns in
// order (the CPU's algorithm), so the result is identical. Plain: fine for the small k of prediction.
// Self-contained CUDA C for NVRTC.

// Strictly greater, with NaN below every number (and not above another NaN).
__device__ bool beats(float a, float b)
{
    return a > b || (b != b && a == a);
}

extern "C" __global__ void topk_rows_f32(const float* x, float* values, int* indices, long long rows, long long cols, int k)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += stride)
    {
        const float* xr = x + r * cols;
        float* vals = values + r * k;
        int* idx = indices + r * k;
        int filled = 0;
        for (long long c = 0; c < cols; c++)
        {
            const float v = xr[c];
            if (filled == k && !beats(v, vals[k - 1])) continue;
            int at = filled == k ? k - 1 : filled;
            while (at > 0 && beats(v, vals[at - 1])) at--;
            const int last = filled == k ? k - 1 : filled;
            for (int s = last; s > at; s--)
            {
                vals[s] = vals[s - 1];
                idx[s] = idx[s - 1];
            }
            vals[at] = v;
            idx[at] = (int)c;
            if (filled < k) filled++;
        }
    }
}
