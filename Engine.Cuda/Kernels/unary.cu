// Element-wise activations and their backwards over n floats, computed in float32 with the device's own
// expf/tanhf/erfcf (the CPU computes in double, so results agree to a few float ulps, not bit for bit).
// Self-contained CUDA C for NVRTC. y may be x (in place); gx may be gy.

#define XMC_SQRT_HALF 0.70710678118654752f
#define XMC_INV_SQRT_TWO_PI 0.39894228040143268f
#define XMC_SQRT_TWO_OVER_PI 0.79788456080286536f
#define XMC_GELU_CUBIC 0.044715f

enum UnaryKind { UNARY_RELU = 0, UNARY_TANH = 1, UNARY_SIGMOID = 2, UNARY_GELU_ERF = 3, UNARY_GELU_TANH = 4 };

__device__ float sigmoid_of(float v)
{
    // Two branches keep exp from overflowing for large |v|.
    if (v >= 0.0f) return 1.0f / (1.0f + expf(-v));
    const float e = expf(v);
    return e / (1.0f + e);
}

// s(1 − s) for s = σ(z), without the cancellation of 1 − s near s = 1: e/(1 + e)² with e = exp(−|z|).
__device__ float sigmoid_slope(float z)
{
    const float e = expf(-fabsf(z));
    const float d = 1.0f + e;
    return e / (d * d);
}

__device__ float unary_forward(int op, float v)
{
    switch (op)
    {
        case UNARY_RELU: return v > 0.0f ? v : 0.0f;
        case UNARY_TANH: return tanhf(v);
        case UNARY_SIGMOID: return sigmoid_of(v);
        case UNARY_GELU_ERF: return v * 0.5f * erfcf(-v * XMC_SQRT_HALF);
        // ½·v·(1 + tanh u) = v·σ(2u): the sigmoid form keeps the tail of large negative v (1 + tanh u cancels there).
        default: return v * sigmoid_of(2.0f * XMC_SQRT_TWO_OVER_PI * (v + XMC_GELU_CUBIC * v * v * v));
    }
}

__device__ float unary_derivative(int op, float v)
{
    switch (op)
    {
        case UNARY_RELU: return v > 0.0f ? 1.0f : 0.0f;
        case UNARY_TANH: return 4.0f * sigmoid_slope(2.0f * v); // 1 − tanh²v = 4·σ(2v)(1 − σ(2v)), no cancellation
        case UNARY_SIGMOID: return sigmoid_slope(v);
        case UNARY_GELU_ERF: return 0.5f * erfcf(-v * XMC_SQRT_HALF) + v * XMC_INV_SQRT_TWO_PI * expf(-0.5f * v * v);
        default:
        {
            // with s = σ(2u): ½(1 + tanh u) = s and ½·v·(1 − tanh²u)·u' = 2·v·s(1 − s)·u' — the forms of the CPU kernels,
            // which keep the slope accurate where 1 + t and 1 − t² would cancel (|u| ≳ 4)
            const float z = 2.0f * XMC_SQRT_TWO_OVER_PI * (v + XMC_GELU_CUBIC * v * v * v);
            return sigmoid_of(z) + 2.0f * v * sigmoid_slope(z) * XMC_SQRT_TWO_OVER_PI * (1.0f + 3.0f * XMC_GELU_CUBIC * v * v);
        }
    }
}

extern "C" __global__ void unary_f32(int op, const float* x, float* y, long long n)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = unary_forward(op, x[i]);
    }
}

extern "C" __global__ void unary_backward_f32(int op, const float* x, const float* gy, float* gx, long long n)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        gx[i] = gy[i] * unary_derivative(op, x[i]);
    }
}

// y[r, c] = f(x[r, c] + bias[c]) over a [rows, cols] matrix (the linear layer's epilogue). The sum is rounded
// (_rn) before f, as the CPU rounds it.
extern "C" __global__ void bias_activation_f32(int op, const float* x, const float* bias, float* y, long long rows, long long cols)
{
    const long long n = rows * cols;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        y[i] = unary_forward(op, __fadd_rn(x[i], bias[i % cols]));
    }
}

// gx[r, c] = gy[r, c] f'(x[r, c] + bias[c]); the bias gradient is the column sum of gx (reduce_rows_f32).
extern "C" __global__ void bias_activation_backward_f32(int op, const float* x, const float* bias, const float* gy, float* gx,
    long long rows, long long cols)
{
    const long long n = rows * cols;
    const long long stride = (long long)gridDim.x * blockDim.x;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    {
        gx[i] = gy[i] * unary_derivative(op, __fadd_rn(x[i], bias[i % cols]));
    }
}
