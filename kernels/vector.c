// Element-wise utility ops on flat vectors.
#include "kernels/common.h"
#include "kernels/ops_cpu.h"

void axpy_cpu(float *y, float a, const float *x, size_t n) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

void fill_cpu(float *x, float value, size_t n) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) x[i] = value;
}

void round_bf16_cpu(float *x, size_t n) {
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) x[i] = round_bf16(x[i]);
}
