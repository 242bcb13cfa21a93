// LayerNorm over the last axis (eps 1e-5), one warp per row; keeps mean and
// 1/std per row for the backward pass.
#include "kernels/cuda/column_sum.h"
#include "kernels/cuda/ops_cuda.h"

#define LAYERNORM_EPS 1e-5f

__global__ void layernorm_forward_kernel(float *out, float *mean, float *rstd, const float *inp,
                                         const float *weight, const float *bias, int N, int C) {
    size_t row = warp_row_index();
    int lane = lane_index();
    if (row >= (size_t)N) return;  // the whole warp leaves together
    const float *x = inp + row * C;  // (C)
    float *y = out + row * C;        // (C)
    float s = 0.0f;
    for (int c = lane; c < C; c += WARP_SIZE) s += x[c];
    float m = warp_reduce(s, SumOp()) / C;
    float var = 0.0f;  // two-pass variance, as the CPU: no cancellation for large means
    for (int c = lane; c < C; c += WARP_SIZE) var += (x[c] - m) * (x[c] - m);
    float r = 1.0f / sqrtf(warp_reduce(var, SumOp()) / C + LAYERNORM_EPS);
    for (int c = lane; c < C; c += WARP_SIZE) y[c] = (x[c] - m) * r * weight[c] + bias[c];
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
}

void cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C) {
    if (N <= 0) return;
    layernorm_forward_kernel<<<warp_row_blocks(N), BLOCK_SIZE, 0, cuda_stream()>>>(
        out, mean, rstd, inp, weight, bias, N, C);
    cudaLaunchCheck();
}

// dinp += rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * w
__global__ void layernorm_backward_input_kernel(float *dinp, const float *dout, const float *inp,
                                                const float *weight, const float *mean,
                                                const float *rstd, int N, int C) {
    size_t row = warp_row_index();
    int lane = lane_index();
    if (row >= (size_t)N) return;
    const float *x = inp + row * C, *dy = dout + row * C;  // (C)
    float *dx = dinp + row * C;                            // (C)
    float m = mean[row], r = rstd[row];
    float dxhat_sum = 0.0f, dxhat_xhat_sum = 0.0f;
    for (int c = lane; c < C; c += WARP_SIZE) {
        float dxhat = dy[c] * weight[c];
        dxhat_sum += dxhat;
        dxhat_xhat_sum += dxhat * (x[c] - m) * r;
    }
    float dxhat_mean = warp_reduce(dxhat_sum, SumOp()) / C;
    float dxhat_xhat_mean = warp_reduce(dxhat_xhat_sum, SumOp()) / C;
    for (int c = lane; c < C; c += WARP_SIZE) {
        float xhat = (x[c] - m) * r;
        dx[c] += r * (dy[c] * weight[c] - dxhat_mean - xhat * dxhat_xhat_mean);
    }
}

// dout * xhat at (n,c): the terms of dweight's column sum.
struct DoutTimesXhat {
    const float *dout, *inp;   // (N,C)
    const float *mean, *rstd;  // (N)
    int C;
    __device__ float operator()(int n, int c) const {
        size_t i = (size_t)n * C + c;
        return dout[i] * (inp[i] - mean[n]) * rstd[n];
    }
};

void cuda_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C) {
    if (N <= 0) return;
    layernorm_backward_input_kernel<<<warp_row_blocks(N), BLOCK_SIZE, 0, cuda_stream()>>>(
        dinp, dout, inp, weight, mean, rstd, N, C);
    cudaLaunchCheck();
    column_sum_accumulate(dweight, N, C, DoutTimesXhat{dout, inp, mean, rstd, C});
    column_sum_accumulate(dbias, N, C, MatrixEntry{dout, C});
}
