// Softmax of scale*inp over the middle axis of an (outer,n,inner) view: the MoT
// group softmax (over tokens, inner = experts) and router softmaxes (inner = 1).
#include <math.h>

#include "kernels/fast_exp.h"
#include "kernels/ops_cpu.h"

// Work is split into (outer index, slice of at most INNER_SLICE inner columns);
// each item walks its n rows with unit-stride inner loops.
#define INNER_SLICE 64

typedef struct {
    size_t offset;  // of element (o, 0, i0)
    int width;      // inner columns in this slice
} Slice;

static int slices_per_outer(int inner) { return (inner + INNER_SLICE - 1) / INNER_SLICE; }

static Slice slice_of(long item, int n, int inner) {
    int per = slices_per_outer(inner);
    long o = item / per;
    int i0 = (int)(item % per) * INNER_SLICE;
    return (Slice){.offset = (size_t)o * n * inner + i0,
                   .width = inner - i0 < INNER_SLICE ? inner - i0 : INNER_SLICE};
}

void softmax_forward_cpu(float *out, const float *inp, int outer, int n, int inner,
                         float scale) {
    long items = (long)outer * slices_per_outer(inner);
#pragma omp parallel for schedule(static) if ((long)outer * n * inner > PARALLEL_MIN_WORK)
    for (long item = 0; item < items; item++) {
        Slice s = slice_of(item, n, inner);
        const float *x = inp + s.offset;  // (n, width), row stride inner
        float *y = out + s.offset;        // (n, width), row stride inner
        float max[INNER_SLICE], sum[INNER_SLICE];
        for (int i = 0; i < s.width; i++) max[i] = -INFINITY, sum[i] = 0.0f;
        for (int j = 0; j < n; j++)
            for (int i = 0; i < s.width; i++)
                max[i] = fmaxf(max[i], scale * x[(size_t)j * inner + i]);
        for (int j = 0; j < n; j++)
#pragma omp simd
            for (int i = 0; i < s.width; i++) {
                float e = fast_expf(scale * x[(size_t)j * inner + i] - max[i]);
                y[(size_t)j * inner + i] = e;
                sum[i] += e;
            }
        for (int i = 0; i < s.width; i++) sum[i] = 1.0f / sum[i];
        for (int j = 0; j < n; j++)
            for (int i = 0; i < s.width; i++) y[(size_t)j * inner + i] *= sum[i];
    }
}

void softmax_backward_cpu(float *dinp, const float *dout, const float *out, int outer, int n,
                          int inner, float scale) {
    long items = (long)outer * slices_per_outer(inner);
#pragma omp parallel for schedule(static) if ((long)outer * n * inner > PARALLEL_MIN_WORK)
    for (long item = 0; item < items; item++) {
        Slice s = slice_of(item, n, inner);
        const float *y = out + s.offset, *dy = dout + s.offset;  // (n, width)
        float *dx = dinp + s.offset;                             // (n, width)
        float dot[INNER_SLICE] = {0};  // sum_n(out * dout)
        for (int j = 0; j < n; j++)
            for (int i = 0; i < s.width; i++) {
                size_t k = (size_t)j * inner + i;
                dot[i] += y[k] * dy[k];
            }
        for (int j = 0; j < n; j++)
            for (int i = 0; i < s.width; i++) {
                size_t k = (size_t)j * inner + i;
                dx[k] += scale * y[k] * (dy[k] - dot[i]);
            }
    }
}
