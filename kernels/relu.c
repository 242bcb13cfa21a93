// ReLU; the backward pass reads the forward output (out > 0 iff inp > 0).
#include "kernels/ops_cpu.h"

void relu_forward_cpu(float *out, const float *inp, size_t n) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void relu_backward_cpu(float *dinp, const float *dout, const float *out, size_t n) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}
