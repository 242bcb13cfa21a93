// Softmax of scale*inp over the middle axis of an (outer,n,inner) view: the MoT
// group softmax (over tokens, inner = experts) and router softmaxes (inner = 1).
// One thread per (outer, inner) column walks its n entries, which sit inner
// floats apart; neighbouring threads read neighbouring columns.
#include "kernels/cuda/ops_cuda.h"

// Element j of column `col` (= o*inner + i) of an (outer,n,inner) tensor.
struct ColumnView {
    size_t base, stride;
    __device__ ColumnView(size_t col, int n, int inner)
        : base((col / inner) * n * inner + col % inner), stride(inner) {}
    __device__ size_t operator[](int j) const { return base + (size_t)j * stride; }
};

struct SoftmaxForward {
    float *out;        // (outer,n,inner)
    const float *inp;  // (outer,n,inner)
    int n, inner;
    float scale;
    __device__ void operator()(size_t col) const {
        ColumnView at(col, n, inner);
        float max = -INFINITY;
        for (int j = 0; j < n; j++) max = fmaxf(max, scale * inp[at[j]]);
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            float e = expf(scale * inp[at[j]] - max);
            out[at[j]] = e;
            sum += e;
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < n; j++) out[at[j]] *= inv;
    }
};

void cuda_softmax_forward(float *out, const float *inp, int outer, int n, int inner,
                          float scale) {
    launch_elementwise((size_t)outer * inner, SoftmaxForward{out, inp, n, inner, scale});
}

// dinp += scale * out * (dout - sum_n(out * dout))
struct SoftmaxBackward {
    float *dinp;                    // (outer,n,inner)
    const float *dout, *out;        // (outer,n,inner)
    int n, inner;
    float scale;
    __device__ void operator()(size_t col) const {
        ColumnView at(col, n, inner);
        float dot = 0.0f;
        for (int j = 0; j < n; j++) dot += out[at[j]] * dout[at[j]];
        for (int j = 0; j < n; j++) dinp[at[j]] += scale * out[at[j]] * (dout[at[j]] - dot);
    }
};

void cuda_softmax_backward(float *dinp, const float *dout, const float *out, int outer, int n,
                           int inner, float scale) {
    launch_elementwise((size_t)outer * inner, SoftmaxBackward{dinp, dout, out, n, inner, scale});
}
