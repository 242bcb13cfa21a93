// Element-wise utility ops on flat vectors: axpy, fill, bf16 rounding.
#include "kernels/cuda/ops_cuda.h"

struct Axpy {
    float *y;        // (n)
    float a;
    const float *x;  // (n)
    __device__ void operator()(size_t i) const { y[i] += a * x[i]; }
};

void cuda_axpy(float *y, float a, const float *x, size_t n) { launch_elementwise(n, Axpy{y, a, x}); }

struct Fill {
    float *x;  // (n)
    float value;
    __device__ void operator()(size_t i) const { x[i] = value; }
};

void cuda_fill(float *x, float value, size_t n) { launch_elementwise(n, Fill{x, value}); }

struct RoundBf16 {
    float *x;  // (n)
    __device__ void operator()(size_t i) const { x[i] = round_to_bf16(x[i]); }
};

void cuda_round_bf16(float *x, size_t n) { launch_elementwise(n, RoundBf16{x}); }
