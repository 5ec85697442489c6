// libcublas.so.11 of the CUDA emulator: the handle calls and cublasGemmEx / cublasGemmStridedBatchedEx for the
// float32 and bfloat16 types and compute types the engine uses. Column-major, as cuBLAS. Inputs are rounded the
// way the compute type rounds them (TF32: 10 mantissa bits; FAST_16BF: bfloat16), products accumulate in
// float32, and arguments are validated as cuBLAS documents (a bad leading dimension is
// CUBLAS_STATUS_INVALID_VALUE, not a wrong answer). Operands must lie inside live device allocations of the
// emulated driver (else CUBLAS_STATUS_EXECUTION_FAILED, where a GPU would fault).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#define XMC_API extern "C" __attribute__((visibility("default")))

extern "C" int xmc_emulator_check_range(uintptr_t p, size_t bytes, char* why, int whyLength);

namespace
{
enum Status : int
{
    SUCCESS = 0,
    NOT_INITIALIZED = 1,
    ALLOC_FAILED = 3,
    INVALID_VALUE = 7,
    ARCH_MISMATCH = 8,
    MAPPING_ERROR = 11,
    EXECUTION_FAILED = 13,
    INTERNAL_ERROR = 14,
    NOT_SUPPORTED = 15,
    LICENSE_ERROR = 16,
};

enum DataType : int { R_32F = 0, R_16BF = 14 };
enum Compute : int { C32F = 68, C32F_PEDANTIC = 69, C32F_FAST_16BF = 75, C32F_FAST_TF32 = 77 };
enum Math : int { DEFAULT_MATH = 0, PEDANTIC_MATH = 2, TF32_TENSOR_OP_MATH = 3 };

struct Handle
{
    unsigned magic = 0x58424c53; // "XBLS"
    void* stream = nullptr;
    int math = DEFAULT_MATH;
};

std::mutex gate;
std::set<Handle*> handles;
thread_local std::string lastDetail;

Status failWith(Status s, const std::string& detail)
{
    lastDetail = detail;
    const char* verbose = std::getenv("XMC_CUDA_EMULATOR_VERBOSE");
    if (verbose != nullptr && verbose[0] == '1') std::fprintf(stderr, "xmc cuda emulator (cuBLAS): %s\n", detail.c_str());
    return s;
}

float bitsToFloat(uint32_t b)
{
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

uint32_t floatToBits(float f)
{
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

// Round to nearest even, keeping `keep` of float32's 23 mantissa bits; NaN and infinity pass unchanged.
float roundMantissa(float v, int keep)
{
    const uint32_t bits = floatToBits(v);
    if (keep >= 23 || (bits & 0x7f800000u) == 0x7f800000u) return v;
    const int drop = 23 - keep;
    const uint32_t lsb = (bits >> drop) & 1u;
    const uint32_t rounded = (bits + ((1u << (drop - 1)) - 1u) + lsb) & ~((1u << drop) - 1u);
    return bitsToFloat(rounded);
}

uint16_t toBf16(float v)
{
    const uint32_t bits = floatToBits(v);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u);
    const uint32_t lsb = (bits >> 16) & 1u;
    return (uint16_t)((bits + 0x7fffu + lsb) >> 16);
}

float load(const void* base, int type, long long i)
{
    if (type == R_32F) return static_cast<const float*>(base)[i];
    return bitsToFloat(((uint32_t) static_cast<const uint16_t*>(base)[i]) << 16);
}

size_t typeBytes(int type) { return type == R_32F ? 4 : 2; }

// Bytes from the first to past the last element a column-major rows x cols operand with leading dimension ld touches.
size_t extentBytes(long long rows, long long cols, long long ld, int type)
{
    if (rows == 0 || cols == 0) return 0;
    return (size_t)(((cols - 1) * ld + rows) * (long long)typeBytes(type));
}

Status checkOperand(const char* call, const char* which, const void* p, long long rows, long long cols, long long ld, int type,
    long long stride, int batch)
{
    const size_t bytes = extentBytes(rows, cols, ld, type);
    if (bytes == 0) return SUCCESS;
    for (int b = 0; b < batch; b++)
    {
        const uintptr_t at = (uintptr_t)p + (uintptr_t)(b * stride * (long long)typeBytes(type));
        char why[240];
        if (xmc_emulator_check_range(at, bytes, why, sizeof why) != 0)
        {
            return failWith(EXECUTION_FAILED, std::string(call) + ": operand " + which + " of batch " + std::to_string(b) + ": " + why);
        }
    }
    return SUCCESS;
}

Status gemm(const char* call, Handle* handle, int transA, int transB, int m, int n, int k, const void* alpha, const void* a, int aType,
    int lda, long long strideA, const void* b, int bType, int ldb, long long strideB, const void* beta, void* c, int cType, int ldc,
    long long strideC, int batch, int compute, int algorithm)
{
    std::lock_guard<std::mutex> lock(gate);
    if (handle == nullptr || handles.count(handle) == 0) return failWith(NOT_INITIALIZED, std::string(call) + ": not a live handle");
    if (transA < 0 || transA > 2 || transB < 0 || transB > 2) return failWith(INVALID_VALUE, std::string(call) + ": bad operation");
    if (m < 0 || n < 0 || k < 0 || batch < 0) return failWith(INVALID_VALUE, std::string(call) + ": negative size or batch count");
    const int aRows = transA == 0 ? m : k, aCols = transA == 0 ? k : m;
    const int bRows = transB == 0 ? k : n, bCols = transB == 0 ? n : k;
    if (lda < (aRows > 1 ? aRows : 1))
        return failWith(INVALID_VALUE, std::string(call) + ": lda " + std::to_string(lda) + " < " + std::to_string(aRows));
    if (ldb < (bRows > 1 ? bRows : 1))
        return failWith(INVALID_VALUE, std::string(call) + ": ldb " + std::to_string(ldb) + " < " + std::to_string(bRows));
    if (ldc < (m > 1 ? m : 1))
        return failWith(INVALID_VALUE, std::string(call) + ": ldc " + std::to_string(ldc) + " < " + std::to_string(m));
    if (alpha == nullptr || beta == nullptr) return failWith(INVALID_VALUE, std::string(call) + ": null alpha or beta");
    if (algorithm < -1 || algorithm > 23) return failWith(INVALID_VALUE, std::string(call) + ": unknown algorithm " + std::to_string(algorithm));

    // The type combinations cuBLAS documents for these compute types.
    const bool float32 = aType == R_32F && bType == R_32F && cType == R_32F;
    const bool bf16 = aType == R_16BF && bType == R_16BF && (cType == R_16BF || cType == R_32F);
    int keep = 23; // mantissa bits kept of each input
    switch (compute)
    {
        case C32F:
            if (!float32 && !bf16) return failWith(NOT_SUPPORTED, std::string(call) + ": type combination not supported for CUBLAS_COMPUTE_32F");
            if (float32 && handle->math == TF32_TENSOR_OP_MATH) keep = 10;
            break;
        case C32F_PEDANTIC:
            if (!float32 && !bf16) return failWith(NOT_SUPPORTED, std::string(call) + ": type combination not supported for CUBLAS_COMPUTE_32F_PEDANTIC");
            break;
        case C32F_FAST_TF32:
            if (!float32) return failWith(NOT_SUPPORTED, std::string(call) + ": CUBLAS_COMPUTE_32F_FAST_TF32 takes float32 A, B and C");
            keep = 10;
            break;
        case C32F_FAST_16BF:
            if (!float32) return failWith(NOT_SUPPORTED, std::string(call) + ": CUBLAS_COMPUTE_32F_FAST_16BF takes float32 A, B and C");
            keep = 7;
            break;
        default:
            return failWith(NOT_SUPPORTED, std::string(call) + ": compute type " + std::to_string(compute) + " is not emulated");
    }
    if (m == 0 || n == 0 || batch == 0) return SUCCESS;
    const float alphaValue = *static_cast<const float*>(alpha);
    const float betaValue = *static_cast<const float*>(beta);
    if (Status s = checkOperand(call, "C", c, m, n, ldc, cType, strideC, batch)) return s;
    if (k > 0 && alphaValue != 0.0f)
    {
        if (Status s = checkOperand(call, "A", a, aRows, aCols, lda, aType, strideA, batch)) return s;
        if (Status s = checkOperand(call, "B", b, bRows, bCols, ldb, bType, strideB, batch)) return s;
    }

    std::vector<float> opA((size_t)m * k), opB((size_t)n * k); // op(A) by rows, op(B) by columns: both [*, k]
    for (int batchIndex = 0; batchIndex < batch; batchIndex++)
    {
        const char* aBase = static_cast<const char*>(a) + batchIndex * strideA * (long long)typeBytes(aType);
        const char* bBase = static_cast<const char*>(b) + batchIndex * strideB * (long long)typeBytes(bType);
        char* cBase = static_cast<char*>(c) + batchIndex * strideC * (long long)typeBytes(cType);
        const bool useProducts = k > 0 && alphaValue != 0.0f;
        if (useProducts)
        {
            for (int i = 0; i < m; i++)
                for (int l = 0; l < k; l++)
                {
                    const long long at = transA == 0 ? i + (long long)l * lda : l + (long long)i * lda;
                    opA[(size_t)i * k + l] = roundMantissa(load(aBase, aType, at), keep);
                }
            for (int j = 0; j < n; j++)
                for (int l = 0; l < k; l++)
                {
                    const long long at = transB == 0 ? l + (long long)j * ldb : j + (long long)l * ldb;
                    opB[(size_t)j * k + l] = roundMantissa(load(bBase, bType, at), keep);
                }
        }
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float sum = 0.0f;
                if (useProducts)
                {
                    const float* ra = &opA[(size_t)i * k];
                    const float* cb = &opB[(size_t)j * k];
                    for (int l = 0; l < k; l++) sum += ra[l] * cb[l];
                }
                const long long at = i + (long long)j * ldc;
                float result = alphaValue * sum;
                if (betaValue != 0.0f) result = result + betaValue * load(cBase, cType, at);
                if (cType == R_32F) reinterpret_cast<float*>(cBase)[at] = result;
                else reinterpret_cast<uint16_t*>(cBase)[at] = toBf16(result);
            }
        }
    }
    return SUCCESS;
}
} // namespace

XMC_API int cublasCreate_v2(Handle** handle)
{
    std::lock_guard<std::mutex> lock(gate);
    if (handle == nullptr) return failWith(INVALID_VALUE, "cublasCreate: null pointer");
    auto* h = new Handle();
    handles.insert(h);
    *handle = h;
    return SUCCESS;
}

XMC_API int cublasDestroy_v2(Handle* handle)
{
    std::lock_guard<std::mutex> lock(gate);
    if (handles.erase(handle) == 0) return failWith(NOT_INITIALIZED, "cublasDestroy: not a live handle");
    delete handle;
    return SUCCESS;
}

XMC_API int cublasSetStream_v2(Handle* handle, void* stream)
{
    std::lock_guard<std::mutex> lock(gate);
    if (handles.count(handle) == 0) return failWith(NOT_INITIALIZED, "cublasSetStream: not a live handle");
    handle->stream = stream;
    return SUCCESS;
}

XMC_API int cublasSetMathMode(Handle* handle, int mode)
{
    std::lock_guard<std::mutex> lock(gate);
    if (handles.count(handle) == 0) return failWith(NOT_INITIALIZED, "cublasSetMathMode: not a live handle");
    const int base = mode & 0xf; // the high bits are flags (e.g. disallowing reduced-precision reductions)
    if (base != DEFAULT_MATH && base != 1 && base != PEDANTIC_MATH && base != TF32_TENSOR_OP_MATH)
        return failWith(INVALID_VALUE, "cublasSetMathMode: unknown mode " + std::to_string(mode));
    handle->math = base;
    return SUCCESS;
}

XMC_API int cublasGemmEx(Handle* handle, int transA, int transB, int m, int n, int k, const void* alpha, const void* a, int aType,
    int lda, const void* b, int bType, int ldb, const void* beta, void* c, int cType, int ldc, int compute, int algorithm)
{
    return gemm("cublasGemmEx", handle, transA, transB, m, n, k, alpha, a, aType, lda, 0, b, bType, ldb, 0, beta, c, cType, ldc, 0, 1,
        compute, algorithm);
}

XMC_API int cublasGemmStridedBatchedEx(Handle* handle, int transA, int transB, int m, int n, int k, const void* alpha, const void* a,
    int aType, int lda, long long strideA, const void* b, int bType, int ldb, long long strideB, const void* beta, void* c, int cType,
    int ldc, long long strideC, int batchCount, int compute, int algorithm)
{
    return gemm("cublasGemmStridedBatchedEx", handle, transA, transB, m, n, k, alpha, a, aType, lda, strideA, b, bType, ldb, strideB,
        beta, c, cType, ldc, strideC, batchCount, compute, algorithm);
}

XMC_API const char* cublasGetStatusString(int status)
{
    const char* text;
    switch (status)
    {
        case SUCCESS: return "the operation completed successfully";
        case NOT_INITIALIZED: text = "the library was not initialized"; break;
        case ALLOC_FAILED: text = "the resource allocation failed"; break;
        case INVALID_VALUE: text = "an invalid numeric value was used as an argument"; break;
        case ARCH_MISMATCH: text = "an absent device architectural feature is required"; break;
        case MAPPING_ERROR: text = "an access to GPU memory space failed"; break;
        case EXECUTION_FAILED: text = "the GPU program failed to execute"; break;
        case INTERNAL_ERROR: text = "an internal operation failed"; break;
        case NOT_SUPPORTED: text = "the functionality requested is not supported"; break;
        default: text = "unknown error"; break;
    }
    static thread_local std::string detailed;
    detailed = lastDetail.empty() ? std::string(text) : std::string(text) + " [CUDA emulator: " + lastDetail + "]";
    return detailed.c_str();
}
