// Bias broadcast over rows and its gradient, the column sum.
#include "kernels/cuda/column_sum.h"
#include "kernels/cuda/ops_cuda.h"

struct AddBias {
    float *out;          // (N,C)
    const float *bias;   // (C)
    int C;
    __device__ void operator()(size_t i) const { out[i] += bias[i % C]; }
};

void cuda_bias_forward(float *out, const float *bias, int N, int C) {
    launch_elementwise((size_t)N * C, AddBias{out, bias, C});
}

void cuda_bias_backward(float *dbias, const float *dout, int N, int C) {
    column_sum_accumulate(dbias, N, C, MatrixEntry{dout, C});
}
