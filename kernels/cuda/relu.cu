// ReLU and its gradient, gated on the forward output (out > 0 iff inp > 0).
#include "kernels/cuda/ops_cuda.h"

struct ReluForward {
    float *out;        // (n); may alias inp
    const float *inp;  // (n)
    __device__ void operator()(size_t i) const { out[i] = inp[i] > 0.0f ? inp[i] : 0.0f; }
};

void cuda_relu_forward(float *out, const float *inp, size_t n) {
    launch_elementwise(n, ReluForward{out, inp});
}

struct ReluBackward {
    float *dinp;        // (n)
    const float *dout;  // (n)
    const float *out;   // (n)
    __device__ void operator()(size_t i) const {
        if (out[i] > 0.0f) dinp[i] += dout[i];
    }
};

void cuda_relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    launch_elementwise(n, ReluBackward{dinp, dout, out});
}
