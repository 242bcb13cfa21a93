// Whole-vector reductions returned to the host, accumulated in double (the
// gradient norm for clipping sums tens of millions of squares).
#include "kernels/ops_cpu.h"

double sumsq_cpu(const float *x, size_t n) {
    double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) total += (double)x[i] * x[i];
    return total;
}

double sum_cpu(const float *x, size_t n) {
    double total = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : total) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) total += x[i];
    return total;
}
