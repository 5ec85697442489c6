// Low-precision storage shared by the kernel files: bfloat16 as raw 16-bit words and OCP FP8 E4M3 (finite-only,
// satfinite) as bytes, rounded exactly like the host's BFloat16 and Float8E4M3 (nearest, ties to even, or
// stochastic with a Philox word). Included by convert.cu and fusedsgd.cu after philox.cuh (NVRTC gets only the
// headers a kernel file names itself).
#pragma once

// To nearest, ties to even; a NaN keeps its sign and top mantissa bits with the quiet bit forced, so truncation
// cannot turn it into Inf.
__device__ unsigned short xmc_float_to_bf16(float value)
{
    const unsigned int bits = __float_as_uint(value);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
    {
        return (unsigned short)((bits >> 16) | 0x0040u);
    }
    const unsigned int lsb = (bits >> 16) & 1u;
    return (unsigned short)((bits + 0x7fffu + lsb) >> 16);
}

__device__ float xmc_bf16_to_float(unsigned short value)
{
    return __uint_as_float(((unsigned int)value) << 16);
}

// float32 -> bfloat16 or OCP FP8 E4M3 (finite-only, satfinite) rounded to nearest or stochastically, bit for bit as
// the host's BFloat16.FromSingle[Stochastic] and Float8E4M3.FromSingle[Stochastic]; element i's stochastic
// threshold is word i of the Philox draw (seed, block offset).
__device__ unsigned int xmc_rounding_word(unsigned long long seed, unsigned long long offset, long long i)
{
    return philox_block(seed, offset + (unsigned long long)(i >> 2)).w[i & 3];
}

__device__ unsigned short xmc_float_to_bf16_stochastic(float value, unsigned int word)
{
    const unsigned int bits = __float_as_uint(value);
    if ((bits & 0x7f800000u) == 0x7f800000u) return xmc_float_to_bf16(value);
    unsigned int rounded = bits + (word >> 16);
    if ((rounded & 0x7f800000u) == 0x7f800000u) rounded = bits; // never round a finite value up to infinity
    return (unsigned short)(rounded >> 16);
}

__device__ unsigned char xmc_float_to_f8(float value, int stochastic, unsigned int word)
{
    const unsigned int bits = __float_as_uint(value);
    const unsigned int sign = (bits >> 24) & 0x80u, abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return (unsigned char)(sign | 0x7fu);
    if (abs >= 0x43e00000u) return (unsigned char)(sign | 0x7eu); // 448 and beyond, and Inf: saturate
    if (abs < 0x3c800000u) // below 2^-6: the subnormal grid, step 2^-9
    {
        if (stochastic)
        {
            const unsigned int fixedPoint = (unsigned int)__fmul_rn(__uint_as_float(abs), 536870912.0f); // units of 2^-29
            return (unsigned char)(sign | ((fixedPoint + (word >> 12)) >> 20));
        }
        const float sum = __fadd_rn(__uint_as_float(abs), 16384.0f);
        return (unsigned char)(sign | (__float_as_uint(sum) - 0x46800000u));
    }
    if (stochastic) return (unsigned char)(sign | (((abs + (word >> 12)) >> 20) - 960u));
    const unsigned int lsb = (abs >> 20) & 1u;
    return (unsigned char)(sign | (((abs + 0x7ffffu + lsb) >> 20) - 960u));
}

__device__ float xmc_f8_to_float(unsigned char code)
{
    const unsigned int sign = ((unsigned int)code & 0x80u) << 24, magnitude = (unsigned int)code & 0x7fu;
    if (magnitude == 0x7fu) return __uint_as_float(sign | 0x7fc00000u);
    if (magnitude < 8u) return __uint_as_float(sign | __float_as_uint(__fmul_rn((float)magnitude, 1.0f / 512.0f)));
    return __uint_as_float(sign | ((magnitude + 960u) << 20));
}

