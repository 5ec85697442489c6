// Element-wise binary ops y = a (op) b over a [rows, cols] matrix, with b either the same shape, a row vector
// [cols] repeated for every row, or a column vector [rows] repeated for every column.
// Self-contained CUDA C for NVRTC: no headers. Counts are 64-bit; grid-stride loops, so any grid size works.
// y may alias a or b: every element is read before it is written, by the same thread.

struct AddOp { __device__ static float apply(float a, float b) { return a + b; } };
struct SubOp { __device__ static float apply(float a, float b) { return a - b; } };
struct MulOp { __device__ static float apply(float a, float b) { return a * b; } };
struct DivOp { __device__ static float apply(float a, float b) { return a / b; } };

enum BroadcastMode { BROADCAST_NONE = 0, BROADCAST_ROW = 1, BROADCAST_COLUMN = 2 };

template <class Op, int Mode>
__device__ void binary(const float* a, const float* b, float* y, long long rows, long long cols)
{
    const long long n = rows * cols;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        float bv;
        if (Mode == BROADCAST_NONE) bv = b[i];
        else if (Mode == BROADCAST_ROW) bv = b[i % cols];
        else bv = b[i / cols];
        y[i] = Op::apply(a[i], bv);
    }
}

#define XMC_BINARY(name, Op)                                                                                   \
    extern "C" __global__ void binary_##name##_none(const float* a, const float* b, float* y, long long rows, long long cols)   \
    { binary<Op, BROADCAST_NONE>(a, b, y, rows, cols); }                                                      \
    extern "C" __global__ void binary_##name##_row(const float* a, const float* b, float* y, long long rows, long long cols)    \
    { binary<Op, BROADCAST_ROW>(a, b, y, rows, cols); }                                                       \
    extern "C" __global__ void binary_##name##_column(const float* a, const float* b, float* y, long long rows, long long cols) \
    { binary<Op, BROADCAST_COLUMN>(a, b, y, rows, cols); }

XMC_BINARY(add, AddOp)
XMC_BINARY(sub, SubOp)
XMC_BINARY(mul, MulOp)
XMC_BINARY(div, DivOp)
