// Swap the first two axes of a 3-D tensor; rows of the last axis move whole.
#include "kernels/common.h"
#include "kernels/ops_cpu.h"

void transpose01_cpu(float *out, const float *inp, int A, int B, int C) {
    // inp (A,B,C) -> out (B,A,C)
#pragma omp parallel for collapse(2) schedule(static) if ((long)A * B * C > PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++)
        for (int a = 0; a < A; a++)
            memcpy(out + ((size_t)b * A + a) * C, inp + ((size_t)a * B + b) * C,
                   (size_t)C * sizeof(float));
}
