// expf for the softmax hot loops: branch-free arithmetic that the compiler
// vectorises under `#pragma omp simd` (a libm call cannot be), within 1 ulp of
// the exact exp over [-87.3, 88.7] (measured against double exp).
#pragma once
#include <stdint.h>

typedef union {
    float f;
    int32_t i;
} FloatBits;

// exp(x); NaN and +inf give NaN, -inf gives exactly 0 (a masked logit: padding
// rows of a MoT group, whose softmax weight must be 0, not NaN). Below
// -87.3 a finite x gives exp(-87.3) ≈ 1e-38 instead of a subnormal or 0, which
// softmax sums cannot tell apart.
//
// exp(x) = 2^n · exp(r) with n = round(x/ln2), |r| <= ln2/2; exp(r) = 1 + r +
// r²·P(r) with P the degree-5 minimax polynomial of Cephes' expf. ln2 is split
// into a high part exact in n·ln2_hi and a correction, so r keeps its low bits.
static inline float fast_expf(float x) {
    // Clamp so that 2^n is a normal float. Float comparisons would block
    // vectorisation (they may trap under GCC's default -ftrapping-math); the bit
    // patterns of floats order like sign-magnitude integers, so compare those:
    // a positive x is capped by 88.7's pattern, a negative one by -87.3's.
    FloatBits in = {.f = x}, lo = {.f = -87.3f}, hi = {.f = 88.7f};
    int32_t cap = in.i < 0 ? lo.i : hi.i;
    FloatBits clamped = {.i = in.i < cap ? in.i : cap};
    float y = clamped.f;
    // round to nearest: adding 1.5·2^23 pushes the fraction bits out of the float
    float n = (y * 1.44269504f + 12582912.0f) - 12582912.0f;
    float r = y - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    FloatBits two_n = {.i = ((int32_t)n + 127) << 23};
    // x - x is 0, or NaN when x is NaN or ±inf (which the clamp turned into
    // numbers). A masked logit of -inf must give exactly 0: its bits are cleared
    // with an integer mask, which vectorises where a float compare or a select
    // does not (a select here stops GCC vectorising the softmax loops).
    FloatBits out = {.f = p * two_n.f + (x - x)};
    out.i &= -(int32_t)(in.i != (int32_t)0xff800000u);
    return out.f;
}
