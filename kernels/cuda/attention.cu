// Causal multi-head self-attention, head size hs = C/NH, as kernels/attention.c.
//
// The heads of qkv (B,T,3C) are first split into contiguous q, k, v (B,NH,T,hs)
// so that each product is a single strided-batched GEMM over all B*NH (sequence,
// head) pairs. Forward:
//   att (B,NH,T,T) = softmax_causal(scale · q·kᵀ)   zeros above the diagonal
//   y   (B,NH,T,hs) = att·v,   out (B,T,C) = y with the heads merged back
// Backward (dqkv accumulates):
//   datt = dy·vᵀ,  dv = attᵀ·dy,  dscores = att ⊙ (datt - rowsum(att ⊙ datt))
//   dq = scale · dscores·k,  dk = scale · dscoresᵀ·q
// bf16 passes through to the GEMMs, which round exactly the operands the CPU
// rounds (q, k, v, att, dout, dscores); softmaxes stay fp32.
//
// The head-major copies live in the backend's attention scratch, grown to the
// largest (B,T,C,NH) seen.
#include <math.h>

#include "kernels/attention_shape.h"
#include "kernels/cuda/ops_cuda.h"

// Element i of a head-major (B,NH,T,hs) tensor sits, in a token-major tensor
// with rows of row_stride floats (C for out/dout, 3C for qkv), at the offset
// returned here (plus part*C for the k and v parts of qkv).
struct HeadLayout {
    size_t T, C, NH, hs, row_stride;
    __device__ size_t token_offset(size_t i) const {
        size_t e = i % hs, t = (i / hs) % T, h = (i / (hs * T)) % NH, b = i / (hs * T * NH);
        return (b * T + t) * row_stride + h * hs + e;
    }
};

enum { MAX_PARTS = 3 };  // q, k, v

// dst[p] (B,NH,T,hs) = part p of the token-major src, for p < parts.
struct SplitHeads {
    HeadLayout layout;
    const float *src;
    float *dst[MAX_PARTS];
    int parts;
    __device__ void operator()(size_t i) const {
        size_t at = layout.token_offset(i);
        // Unrolled over MAX_PARTS so dst is indexed by constants only: a run-time
        // index would copy the functor to a per-thread stack frame.
#pragma unroll
        for (int p = 0; p < MAX_PARTS; p++)
            if (p < parts) dst[p][i] = src[at + p * layout.C];
    }
};

// Part p of the token-major dst (=, or += when accumulate) src[p] (B,NH,T,hs).
struct MergeHeads {
    HeadLayout layout;
    float *dst;
    const float *src[MAX_PARTS];
    int parts, accumulate;
    __device__ void operator()(size_t i) const {
        size_t at = layout.token_offset(i);
#pragma unroll  // constant indices into src, as in SplitHeads
        for (int p = 0; p < MAX_PARTS; p++) {
            if (p >= parts) continue;
            float *d = &dst[at + p * layout.C];
            *d = accumulate ? *d + src[p][i] : src[p][i];
        }
    }
};

static HeadLayout head_layout(AttentionShape s, int row_stride) {
    return HeadLayout{(size_t)s.T, (size_t)s.C, (size_t)s.NH, (size_t)s.hs, (size_t)row_stride};
}

static size_t head_elems(AttentionShape s) { return (size_t)s.B * s.T * s.C; }

// Row t of each (T,T) score matrix becomes softmax over columns 0..t; the
// columns after t are set to 0. One warp per row.
__global__ void causal_softmax_kernel(float *att, size_t rows, int T) {
    size_t row = warp_row_index();
    int lane = lane_index();
    if (row >= rows) return;
    int t = (int)(row % T);
    float *a = att + row * T;  // (T)
    float max = -INFINITY;
    for (int j = lane; j <= t; j += WARP_SIZE) max = fmaxf(max, a[j]);
    max = warp_reduce(max, MaxOp());
    float sum = 0.0f;
    for (int j = lane; j <= t; j += WARP_SIZE) {
        a[j] = expf(a[j] - max);
        sum += a[j];
    }
    float norm = 1.0f / warp_reduce(sum, SumOp());
    for (int j = lane; j <= t; j += WARP_SIZE) a[j] *= norm;
    for (int j = t + 1 + lane; j < T; j += WARP_SIZE) a[j] = 0.0f;
}

// datt (T,T) rows become att * (datt - rowsum(att * datt)), 0 above the diagonal.
__global__ void causal_softmax_backward_kernel(float *datt, const float *att, size_t rows,
                                               int T) {
    size_t row = warp_row_index();
    int lane = lane_index();
    if (row >= rows) return;
    int t = (int)(row % T);
    float *d = datt + row * T;       // (T)
    const float *p = att + row * T;  // (T)
    float dot = 0.0f;
    for (int j = lane; j <= t; j += WARP_SIZE) dot += p[j] * d[j];
    dot = warp_reduce(dot, SumOp());
    for (int j = lane; j <= t; j += WARP_SIZE) d[j] = p[j] * (d[j] - dot);
    for (int j = t + 1 + lane; j < T; j += WARP_SIZE) d[j] = 0.0f;
}

// One product over all B*NH heads: C[bh] = alpha · op(A[bh])·op(B[bh]). Every
// operand is a contiguous stack of (rows,cols) matrices, so the batch strides
// are the matrix sizes.
static void head_gemm(AttentionShape s, int transA, int transB, int M, int N, int K,
                      float alpha, const float *A, const float *B, float *C, int bf16) {
    GemmArgs g = {};
    g.transA = transA;
    g.transB = transB;
    g.M = M;
    g.N = N;
    g.K = K;
    g.alpha = alpha;
    g.beta = 0.0f;
    g.A = A;
    g.strideA = (long)M * K;
    g.B = B;
    g.strideB = (long)K * N;
    g.C = C;
    g.strideC = (long)M * N;
    g.batch = s.B * s.NH;
    g.bf16 = bf16;
    cuda_gemm(&g);
}

static void launch_causal_softmax(AttentionShape s, float *att) {
    size_t rows = (size_t)s.B * s.NH * s.T;
    causal_softmax_kernel<<<warp_row_blocks(rows), BLOCK_SIZE, 0, cuda_stream()>>>(att, rows, s.T);
    cudaLaunchCheck();
}

static void launch_causal_softmax_backward(AttentionShape s, float *datt, const float *att) {
    size_t rows = (size_t)s.B * s.NH * s.T;
    causal_softmax_backward_kernel<<<warp_row_blocks(rows), BLOCK_SIZE, 0, cuda_stream()>>>(
        datt, att, rows, s.T);
    cudaLaunchCheck();
}

void cuda_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                            int NH, int bf16) {
    // out (B,T,C), att (B,NH,T,T), qkv (B,T,3C)
    AttentionShape s = attention_shape(B, T, C, NH);
    size_t n = head_elems(s);
    if (n == 0) return;
    float *q = (float *)cuda_scratch(SCRATCH_ATTENTION, 4 * n * sizeof(float));  // (B,NH,T,hs)
    float *k = q + n, *v = k + n, *y = v + n;                                    // (B,NH,T,hs)
    launch_elementwise(n, SplitHeads{head_layout(s, 3 * C), qkv, {q, k, v}, 3});
    head_gemm(s, 0, 1, T, T, s.hs, s.scale, q, k, att, bf16);  // q·kᵀ (T,T)
    launch_causal_softmax(s, att);
    head_gemm(s, 0, 0, T, s.hs, T, 1.0f, att, v, y, bf16);  // att·v (T,hs)
    launch_elementwise(n, MergeHeads{head_layout(s, C), out, {y}, 1, 0});
}

void cuda_attention_backward(float *dqkv, const float *dout, const float *qkv,
                             const float *att, int B, int T, int C, int NH, int bf16) {
    // dqkv (B,T,3C) +=, dout (B,T,C), qkv (B,T,3C), att (B,NH,T,T)
    AttentionShape s = attention_shape(B, T, C, NH);
    size_t n = head_elems(s), n_att = (size_t)B * NH * T * T;
    if (n == 0) return;
    float *q = (float *)cuda_scratch(SCRATCH_ATTENTION, (7 * n + n_att) * sizeof(float));
    float *k = q + n, *v = k + n, *dy = v + n;      // (B,NH,T,hs)
    float *dq = dy + n, *dk = dq + n, *dv = dk + n;  // (B,NH,T,hs)
    float *datt = dv + n;                            // (B,NH,T,T)
    launch_elementwise(n, SplitHeads{head_layout(s, 3 * C), qkv, {q, k, v}, 3});
    launch_elementwise(n, SplitHeads{head_layout(s, C), dout, {dy}, 1});
    head_gemm(s, 0, 1, T, T, s.hs, 1.0f, dy, v, datt, bf16);  // dy·vᵀ (T,T)
    head_gemm(s, 1, 0, T, s.hs, T, 1.0f, att, dy, dv, bf16);  // attᵀ·dy (T,hs)
    launch_causal_softmax_backward(s, datt, att);
    head_gemm(s, 0, 0, T, s.hs, T, s.scale, datt, k, dq, bf16);  // dscores·k (T,hs)
    head_gemm(s, 1, 0, T, s.hs, T, s.scale, datt, q, dk, bf16);  // dscoresᵀ·q (T,hs)
    launch_elementwise(n, MergeHeads{head_layout(s, 3 * C), dqkv, {dq, dk, dv}, 3, 1});
}
