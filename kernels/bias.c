// Bias broadcast over rows, and its gradient (column sums).
#include "kernels/ops_cpu.h"

// Columns per OpenMP task in column sums: rows are walked in order, each task
// reading a contiguous slice of every row.
#define COLUMN_BLOCK 64

void bias_forward_cpu(float *out, const float *bias, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C > PARALLEL_MIN_WORK)
    for (int i = 0; i < N; i++) {
        float *row = out + (size_t)i * C;  // (C)
        for (int c = 0; c < C; c++) row[c] += bias[c];
    }
}

void bias_backward_cpu(float *dbias, const float *dout, int N, int C) {
#pragma omp parallel for schedule(static) if ((long)N * C > PARALLEL_MIN_WORK)
    for (int c0 = 0; c0 < C; c0 += COLUMN_BLOCK) {
        int width = C - c0 < COLUMN_BLOCK ? C - c0 : COLUMN_BLOCK;
        double sum[COLUMN_BLOCK] = {0};  // double: N can be B*T = 65536 rows
        for (int i = 0; i < N; i++) {
            const float *row = dout + (size_t)i * C + c0;
            for (int c = 0; c < width; c++) sum[c] += row[c];
        }
        for (int c = 0; c < width; c++) dbias[c0 + c] += (float)sum[c];
    }
}
