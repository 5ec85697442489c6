// SET prune-and-regrow on the fixed fan-in layout (values [L, k] float32, bfloat16 words or fp8 E4M3 bytes, indices [L, k]
// uint16 or int32, each row sorted by input), reproducing CpuBackend.Dst exactly: drop the `prune` smallest
// |value| (ties: lower slot first), draw as many distinct unused inputs from the row's Philox4x32-10 draw (row l reads the prune + 1 blocks from
// offset + l (prune + 1); word t < 4 prune + 3 proposes floor(w d / 2^32), rejected when used; then word
// 4 prune + 3 picks the start of a scan), re-sort the row by input and
// move every float32 slot-state row along. One thread per row (plain: insertion sorts of k keys); the rows of
// one launch are labels rowStart .. rowStart + rows - 1, each with 28 k bytes of workspace. Self-contained CUDA C.

#include "philox.cuh"
#include "lowprec.cuh"

// Word t of the draw starting at block `offset`.
__device__ unsigned int philox_word(unsigned long long seed, unsigned long long offset, int t)
{
    return philox_block(seed, offset + (unsigned long long)(t >> 2)).w[t & 3];
}

// Uniform in [0, n) by multiply-shift of a 32-bit word, as CpuBackend.DrawUnused.
__device__ int word_below(unsigned int word, unsigned int n)
{
    return (int)(((unsigned long long)word * (unsigned long long)n) >> 32);
}

__device__ float value_at(const float* v, long long i) { return v[i]; }
__device__ float value_at(const unsigned short* v, long long i) { return __uint_as_float(((unsigned int)v[i]) << 16); }

__device__ float value_at(const unsigned char* v, long long i) { return xmc_f8_to_float(v[i]); }

__device__ void store_value(float* v, long long i, float x) { v[i] = x; }
__device__ void store_value(unsigned char* v, long long i, float x) { v[i] = xmc_float_to_f8(x, 0, 0u); }
__device__ void store_value(unsigned short* v, long long i, float x)
{
    // Round to nearest even (a survivor's value is already a bfloat16, so its bits come back unchanged).
    const unsigned int bits = __float_as_uint(x);
    if ((bits & 0x7fffffffu) > 0x7f800000u) { v[i] = (unsigned short)((bits >> 16) | 0x0040u); return; }
    const unsigned int lsb = (bits >> 16) & 1u;
    v[i] = (unsigned short)((bits + 0x7fffu + lsb) >> 16);
}

__device__ void sort_keys(long long* keys, int k)
{
    for (int i = 1; i < k; i++)
    {
        const long long key = keys[i];
        int j = i - 1;
        while (j >= 0 && keys[j] > key)
        {
            keys[j + 1] = keys[j];
            j--;
        }
        keys[j + 1] = key;
    }
}

template <class TI>
__device__ bool is_used(const TI* row, int k, const int* fresh, int found, int input)
{
    int lo = 0, hi = k - 1;
    while (lo <= hi)
    {
        const int mid = (lo + hi) >> 1;
        const int val = (int)row[mid];
        if (val == input) return true;
        if (val < input) lo = mid + 1;
        else hi = mid - 1;
    }
    for (int i = 0; i < found; i++)
    {
        if (fresh[i] == input) return true;
    }
    return false;
}

template <class TV, class TI>
__device__ void set_rows(TV* values, TI* indices, long long rowStart, long long rows, int k, int d, int prune, float regrowValue,
    unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long local = (long long)blockIdx.x * blockDim.x + threadIdx.x; local < rows; local += stride)
    {
        const long long l = rowStart + local;
        const long long row = l * k;
        long long* keys = (long long*)workspace + local * k;
        int* ints = (int*)((long long*)workspace + rows * k) + local * 5LL * k;
        int* entryInput = ints;
        float* entryValue = (float*)(ints + k);
        int* entryFrom = ints + 2 * k;
        int* fresh = ints + 3 * k;
        float* scratch = (float*)(ints + 4 * k);

        for (int j = 0; j < k; j++)
        {
            keys[j] = ((long long)__float_as_int(fabsf(value_at(values, row + j))) << 32) | (unsigned int)j;
        }
        sort_keys(keys, k);

        const unsigned long long rowOffset = offset + (unsigned long long)l * (unsigned long long)(prune + 1);
        const int budget = 4 * prune + 3;
        int n = 0;
        Words words;
        for (int t = 0; n < prune && t < budget; t++)
        {
            if ((t & 3) == 0) words = philox_block(seed, rowOffset + (unsigned long long)(t >> 2));
            const int c = word_below(words.w[t & 3], (unsigned int)d);
            if (!is_used(indices + row, k, fresh, n, c)) fresh[n++] = c;
        }
        if (n < prune)
        {
            const int start = word_below(philox_word(seed, rowOffset, budget), (unsigned int)d);
            for (int step = 0; n < prune && step < d; step++)
            {
                const int c = start + step < d ? start + step : start + step - d;
                if (!is_used(indices + row, k, fresh, n, c)) fresh[n++] = c;
            }
        }

        int e = 0;
        for (int q = prune; q < k; q++, e++)
        {
            const int j = (int)(keys[q] & 0xffffffffLL);
            entryInput[e] = (int)indices[row + j];
            entryValue[e] = value_at(values, row + j);
            entryFrom[e] = j;
        }
        for (int q = 0; q < prune; q++, e++)
        {
            entryInput[e] = fresh[q];
            entryValue[e] = regrowValue;
            entryFrom[e] = -1;
        }
        for (int q = 0; q < k; q++)
        {
            keys[q] = ((long long)entryInput[q] << 32) | (unsigned int)q;
        }
        sort_keys(keys, k);
        for (int j = 0; j < k; j++)
        {
            const int q = (int)(keys[j] & 0xffffffffLL);
            indices[row + j] = (TI)entryInput[q];
            store_value(values, row + j, entryValue[q]);
        }
        for (int s = 0; s < stateCount; s++)
        {
            float* st = states[s] + row;
            for (int j = 0; j < k; j++) scratch[j] = st[j];
            for (int j = 0; j < k; j++)
            {
                const int from = entryFrom[(int)(keys[j] & 0xffffffffLL)];
                st[j] = from < 0 ? 0.0f : scratch[from];
            }
        }
    }
}

extern "C" __global__ void set_prune_regrow_f32_u16(float* values, unsigned short* indices, long long rowStart, long long rows, int k, int d,
    int prune, float regrowValue, unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{ set_rows(values, indices, rowStart, rows, k, d, prune, regrowValue, seed, offset, states, stateCount, workspace); }

extern "C" __global__ void set_prune_regrow_f32_i32(float* values, int* indices, long long rowStart, long long rows, int k, int d,
    int prune, float regrowValue, unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{ set_rows(values, indices, rowStart, rows, k, d, prune, regrowValue, seed, offset, states, stateCount, workspace); }

extern "C" __global__ void set_prune_regrow_bf16_u16(unsigned short* values, unsigned short* indices, long long rowStart, long long rows, int k, int d,
    int prune, float regrowValue, unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{ set_rows(values, indices, rowStart, rows, k, d, prune, regrowValue, seed, offset, states, stateCount, workspace); }

extern "C" __global__ void set_prune_regrow_bf16_i32(unsigned short* values, int* indices, long long rowStart, long long rows, int k, int d,
    int prune, float regrowValue, unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{ set_rows(values, indices, rowStart, rows, k, d, prune, regrowValue, seed, offset, states, stateCount, workspace); }

extern "C" __global__ void set_prune_regrow_f8_u16(unsigned char* values, unsigned short* indices, long long rowStart, long long rows, int k, int d,
    int prune, float regrowValue, unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{ set_rows(values, indices, rowStart, rows, k, d, prune, regrowValue, seed, offset, states, stateCount, workspace); }

extern "C" __global__ void set_prune_regrow_f8_i32(unsigned char* values, int* indices, long long rowStart, long long rows, int k, int d,
    int prune, float regrowValue, unsigned long long seed, unsigned long long offset, float* const* states, int stateCount, unsigned char* workspace)
{ set_rows(values, indices, rowStart, rows, k, d, prune, regrowValue, seed, offset, states, stateCount, workspace); }
