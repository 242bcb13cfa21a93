// LayerNorm over the last axis (eps 1e-5), keeping mean and 1/std per row for the
// backward pass.
#include <math.h>

#include "kernels/ops_cpu.h"

#define LAYERNORM_EPS 1e-5f
#define COLUMN_BLOCK 64  // columns per task in the dweight/dbias column sums

void layernorm_forward_cpu(float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C > PARALLEL_MIN_WORK)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;  // (C)
        float *y = out + (size_t)i * C;        // (C)
        float m = 0.0f;
        for (int c = 0; c < C; c++) m += x[c];
        m /= C;
        float var = 0.0f;  // two-pass variance: no cancellation for large means
        for (int c = 0; c < C; c++) var += (x[c] - m) * (x[c] - m);
        float s = 1.0f / sqrtf(var / C + LAYERNORM_EPS);
        for (int c = 0; c < C; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
        mean[i] = m;
        rstd[i] = s;
    }
}

void layernorm_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, int N, int C) {
    // dinp = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * w
#pragma omp parallel for schedule(static) if ((long)N * C > PARALLEL_MIN_WORK)
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C, *dy = dout + (size_t)i * C;  // (C)
        float *dx = dinp + (size_t)i * C;                                   // (C)
        float m = mean[i], s = rstd[i];
        float dxhat_mean = 0.0f, dxhat_xhat_mean = 0.0f;
        for (int c = 0; c < C; c++) {
            float dxhat = dy[c] * weight[c];
            dxhat_mean += dxhat;
            dxhat_xhat_mean += dxhat * (x[c] - m) * s;
        }
        dxhat_mean /= C;
        dxhat_xhat_mean /= C;
        for (int c = 0; c < C; c++) {
            float xhat = (x[c] - m) * s;
            dx[c] += s * (dy[c] * weight[c] - dxhat_mean - xhat * dxhat_xhat_mean);
        }
    }
    // dweight = colsum(dout * xhat), dbias = colsum(dout): threads own column
    // blocks so no two write the same parameter.
#pragma omp parallel for schedule(static) if ((long)N * C > PARALLEL_MIN_WORK)
    for (int c0 = 0; c0 < C; c0 += COLUMN_BLOCK) {
        int width = C - c0 < COLUMN_BLOCK ? C - c0 : COLUMN_BLOCK;
        double dw[COLUMN_BLOCK] = {0}, db[COLUMN_BLOCK] = {0};
        for (int i = 0; i < N; i++) {
            const float *x = inp + (size_t)i * C + c0, *dy = dout + (size_t)i * C + c0;
            float m = mean[i], s = rstd[i];
            for (int c = 0; c < width; c++) {
                dw[c] += dy[c] * (x[c] - m) * s;
                db[c] += dy[c];
            }
        }
        for (int c = 0; c < width; c++) {
            dweight[c0 + c] += (float)dw[c];
            dbias[c0 + c] += (float)db[c];
        }
    }
}
