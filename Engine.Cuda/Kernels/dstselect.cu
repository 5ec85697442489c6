// Selection kernels of the DST algorithms beyond SET on the fixed fan-in layout (values [L, k] float32 or bfloat16
// words, or fp8 E4M3 bytes, indices [L, k] uint16 or int32, each row sorted by input), reproducing CpuBackend.DstSelect exactly:
// GSE's candidate draw (Philox4x32-10 words, uniform or by the inverse of a cumulative table of doubles) and its
// grow-then-prune with the slot state moved along; Top-KAST's forward-set marks and its penalty on the
// reservoir-only slots. One thread per row, counting ranks instead of sorting (k and c are tens); the grow kernel's
// rows rowStart .. rowStart + rows - 1 each have 12 k bytes of workspace. Self-contained CUDA C.

#include "philox.cuh"
#include "lowprec.cuh"

// Uniform in [0, n) by multiply-shift of a 32-bit word.
__device__ int draw_below(unsigned int word, unsigned int n)
{
    return (int)(((unsigned long long)word * (unsigned long long)n) >> 32);
}

// The input whose interval of the cumulative table holds u = w / 2^32 * total: the probe sequence of a binary search
// (an exact hit at i gives i + 1, a miss the insertion point), capped at d - 1 (as GseRows.Inverse).
__device__ int cdf_inverse(const double* cdf, int d, unsigned int w)
{
    const double u = (double)w / 4294967296.0 * cdf[d - 1];
    int lo = 0, hi = d - 1, at = -1;
    while (lo <= hi)
    {
        const int i = lo + ((hi - lo) >> 1);
        if (cdf[i] == u) { at = i + 1; break; }
        if (cdf[i] < u) lo = i + 1;
        else hi = i - 1;
    }
    const int r = at < 0 ? lo : at;
    return r < d - 1 ? r : d - 1;
}

template <class TI>
__device__ bool row_holds(const TI* row, int k, int x)
{
    int lo = 0, hi = k - 1;
    while (lo <= hi)
    {
        const int mid = (lo + hi) >> 1;
        const int val = (int)row[mid];
        if (val == x) return true;
        if (val < x) lo = mid + 1;
        else hi = mid - 1;
    }
    return false;
}

__device__ bool list_holds(const int* list, int n, int x)
{
    for (int i = 0; i < n; i++)
    {
        if (list[i] == x) return true;
    }
    return false;
}

template <class TI>
__device__ void gse_draw_rows(const TI* indices, long long rowStart, long long rows, int k, int d, int c, const double* cdf,
    unsigned long long seed, unsigned long long offset, unsigned long long rowBlocks, int* result)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += stride)
    {
        const long long l = rowStart + r;
        const TI* row = indices + l * k;
        int* out = result + r * c;
        const unsigned long long rowOffset = offset + (unsigned long long)l * rowBlocks;
        const int budget = 8 * c + 8;
        int found = 0;
        Words words;
        for (int t = 0; t < budget && found < c; t++)
        {
            if ((t & 3) == 0) words = philox_block(seed, rowOffset + (unsigned long long)(t >> 2));
            const unsigned int w = words.w[t & 3];
            const int x = cdf != 0 ? cdf_inverse(cdf, d, w) : draw_below(w, (unsigned int)d);
            if (!row_holds(row, k, x) && !list_holds(out, found, x)) out[found++] = x;
        }
        if (found < c)
        {
            const int start = draw_below(philox_block(seed, rowOffset + (unsigned long long)(budget >> 2)).w[budget & 3], (unsigned int)d);
            for (int step = 0; found < c && step < d; step++)
            {
                const int x = start + step < d ? start + step : start + step - d;
                if (!row_holds(row, k, x) && !list_holds(out, found, x)) out[found++] = x;
            }
        }
        for (int i = 1; i < found; i++)
        {
            const int key = out[i];
            int j = i - 1;
            while (j >= 0 && out[j] > key)
            {
                out[j + 1] = out[j];
                j--;
            }
            out[j + 1] = key;
        }
    }
}

extern "C" __global__ void gse_draw_u16(const unsigned short* indices, long long rowStart, long long rows, int k, int d, int c,
    const double* cdf, unsigned long long seed, unsigned long long offset, unsigned long long rowBlocks, int* result)
{ gse_draw_rows(indices, rowStart, rows, k, d, c, cdf, seed, offset, rowBlocks, result); }

extern "C" __global__ void gse_draw_i32(const int* indices, long long rowStart, long long rows, int k, int d, int c,
    const double* cdf, unsigned long long seed, unsigned long long offset, unsigned long long rowBlocks, int* result)
{ gse_draw_rows(indices, rowStart, rows, k, d, c, cdf, seed, offset, rowBlocks, result); }

__device__ unsigned int magnitude_bits(const float* v, long long i) { return __float_as_uint(v[i]) & 0x7fffffffu; }
__device__ unsigned int magnitude_bits(const unsigned short* v, long long i) { return (((unsigned int)v[i]) << 16) & 0x7fffffffu; }
__device__ unsigned int magnitude_bits(const unsigned char* v, long long i) { return __float_as_uint(xmc_f8_to_float(v[i])) & 0x7fffffffu; }

__device__ void store_grown(float* v, long long i, float x) { v[i] = x; }
__device__ void store_grown(unsigned short* v, long long i, float x)
{
    // round to nearest even, as BFloat16.FromSingle
    const unsigned int bits = __float_as_uint(x);
    if ((bits & 0x7fffffffu) > 0x7f800000u) { v[i] = (unsigned short)((bits >> 16) | 0x0040u); return; }
    const unsigned int lsb = (bits >> 16) & 1u;
    v[i] = (unsigned short)((bits + 0x7fffu + lsb) >> 16);
}

// fp8 E4M3: nearest, as Float8E4M3.FromSingle
__device__ void store_grown(unsigned char* v, long long i, float x) { v[i] = xmc_float_to_f8(x, 0, 0u); }

// Candidate j of the row is grown when fewer than n candidates come before it in (|g| descending, position ascending).
__device__ bool is_grown(const float* g, int c, int n, int j)
{
    const unsigned int mine = __float_as_uint(g[j]) & 0x7fffffffu;
    int before = 0;
    for (int i = 0; i < c; i++)
    {
        const unsigned int other = __float_as_uint(g[i]) & 0x7fffffffu;
        before += (other > mine || (other == mine && i < j)) ? 1 : 0;
    }
    return before < n;
}

__device__ int next_grown(const float* g, int c, int n, int j)
{
    while (j < c && !is_grown(g, c, n, j)) j++;
    return j;
}

template <class TV, class TI>
__device__ void gse_grow_rows(TV* values, TI* indices, long long rowStart, long long rows, int k, int n, const int* candidates,
    const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += stride)
    {
        const long long row = (rowStart + r) * k;
        const int* cand = candidates + r * c;
        const float* g = grads + r * c;
        int* from = (int*)workspace + r * 3LL * k;
        int* newIndex = from + k;
        TV* copy = (TV*)(from + 2 * k);
        float* stateCopy = (float*)(from + 2 * k);
        int at = 0;
        int jc = next_grown(g, c, n, 0);
        for (int j = 0; j < k; j++)
        {
            // slot j is dropped when fewer than n slots come before it in (|w| ascending, slot ascending)
            const unsigned int mine = magnitude_bits(values, row + j);
            int before = 0;
            for (int i = 0; i < k; i++)
            {
                const unsigned int other = magnitude_bits(values, row + i);
                before += (other < mine || (other == mine && i < j)) ? 1 : 0;
            }
            if (before < n) continue;
            const int input = (int)indices[row + j];
            while (jc < c && cand[jc] < input)
            {
                from[at] = -1;
                newIndex[at++] = cand[jc];
                jc = next_grown(g, c, n, jc + 1);
            }
            from[at] = j;
            newIndex[at++] = input;
        }
        while (jc < c)
        {
            from[at] = -1;
            newIndex[at++] = cand[jc];
            jc = next_grown(g, c, n, jc + 1);
        }
        for (int j = 0; j < k; j++) copy[j] = values[row + j];
        for (int j = 0; j < k; j++)
        {
            if (from[j] < 0) store_grown(values, row + j, growValue);
            else values[row + j] = copy[from[j]];
            indices[row + j] = (TI)newIndex[j];
        }
        for (int s = 0; s < stateCount; s++)
        {
            float* st = states[s] + row;
            for (int j = 0; j < k; j++) stateCopy[j] = st[j];
            for (int j = 0; j < k; j++) st[j] = from[j] < 0 ? 0.0f : stateCopy[from[j]];
        }
    }
}

extern "C" __global__ void gse_grow_f32_u16(float* values, unsigned short* indices, long long rowStart, long long rows, int k, int n,
    const int* candidates, const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{ gse_grow_rows(values, indices, rowStart, rows, k, n, candidates, grads, c, growValue, states, stateCount, workspace); }

extern "C" __global__ void gse_grow_f32_i32(float* values, int* indices, long long rowStart, long long rows, int k, int n,
    const int* candidates, const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{ gse_grow_rows(values, indices, rowStart, rows, k, n, candidates, grads, c, growValue, states, stateCount, workspace); }

extern "C" __global__ void gse_grow_bf16_u16(unsigned short* values, unsigned short* indices, long long rowStart, long long rows, int k, int n,
    const int* candidates, const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{ gse_grow_rows(values, indices, rowStart, rows, k, n, candidates, grads, c, growValue, states, stateCount, workspace); }

extern "C" __global__ void gse_grow_bf16_i32(unsigned short* values, int* indices, long long rowStart, long long rows, int k, int n,
    const int* candidates, const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{ gse_grow_rows(values, indices, rowStart, rows, k, n, candidates, grads, c, growValue, states, stateCount, workspace); }

extern "C" __global__ void gse_grow_f8_u16(unsigned char* values, unsigned short* indices, long long rowStart, long long rows, int k, int n,
    const int* candidates, const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{ gse_grow_rows(values, indices, rowStart, rows, k, n, candidates, grads, c, growValue, states, stateCount, workspace); }

extern "C" __global__ void gse_grow_f8_i32(unsigned char* values, int* indices, long long rowStart, long long rows, int k, int n,
    const int* candidates, const float* grads, int c, float growValue, float* const* states, int stateCount, unsigned char* workspace)
{ gse_grow_rows(values, indices, rowStart, rows, k, n, candidates, grads, c, growValue, states, stateCount, workspace); }

// Top-KAST's forward set: slot j is marked when fewer than kf slots come before it in (|w| descending, slot ascending);
// the marks that flipped are added to *flipped.
template <class TV>
__device__ void forward_set_rows(const TV* values, float* marks, long long labels, int k, int kf, unsigned long long* flipped)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long l = (long long)blockIdx.x * blockDim.x + threadIdx.x; l < labels; l += stride)
    {
        const long long row = l * k;
        unsigned long long changed = 0;
        for (int j = 0; j < k; j++)
        {
            const unsigned int mine = magnitude_bits(values, row + j);
            int before = 0;
            for (int i = 0; i < k; i++)
            {
                const unsigned int other = magnitude_bits(values, row + i);
                before += (other > mine || (other == mine && i < j)) ? 1 : 0;
            }
            const float mark = before < kf ? 1.0f : 0.0f;
            changed += mark != marks[row + j] ? 1ULL : 0ULL;
            marks[row + j] = mark;
        }
        if (changed != 0) atomicAdd(flipped, changed);
    }
}

extern "C" __global__ void select_forward_set_f32(const float* values, float* marks, long long labels, int k, int kf, unsigned long long* flipped)
{ forward_set_rows(values, marks, labels, k, kf, flipped); }

extern "C" __global__ void select_forward_set_bf16(const unsigned short* values, float* marks, long long labels, int k, int kf, unsigned long long* flipped)
{ forward_set_rows(values, marks, labels, k, kf, flipped); }

extern "C" __global__ void select_forward_set_f8(const unsigned char* values, float* marks, long long labels, int k, int kf, unsigned long long* flipped)
{ forward_set_rows(values, marks, labels, k, kf, flipped); }

// gradient[i] += (lambda (1 - marks[i])) values[i], rounded in that order (no contraction), as the CPU.
extern "C" __global__ void reservoir_penalty_f32(float* gradient, const float* values, const float* marks, long long n, float lambda)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        gradient[i] = __fadd_rn(gradient[i], __fmul_rn(__fmul_rn(lambda, __fsub_rn(1.0f, marks[i])), values[i]));
    }
}
