// The op table every model is written against.
//
// Each op has a plain-C reference (kernels/<op>.c, table `ops_cpu`) and a CUDA twin
// (kernels/cuda/<op>.cu, table returned by ops_cuda()). Model code in impls/ only
// ever calls through an `const Ops *`, so the same model code runs on either
// device, and tests compare the two tables op by op (tests/gpu/).
//
// Conventions (all tensors row-major float32, shapes in comments as (A,B,C)):
//   * Pointers are device pointers of the table's device (host memory for cpu).
//   * Forward ops overwrite their outputs.
//   * *_backward ops ACCUMULATE (+=) into every gradient they produce, so callers
//     zero gradients once per step and residual branches just add up.
//   * Utility ops (transpose, fill, round) overwrite.
//   * Ops never synchronise with the host except those returning a host value
//     (sumsq, sum), which the trainer calls once per step.
#pragma once
#include <stddef.h>

#include "kernels/precision.h"

// C[b] = alpha * op(A[b]) · op(B[b]) + beta * C[b] for b in [0, batch).
// op(A) is (M,K): A is stored (M,K), or (K,M) when transA. op(B) is (K,N): B is
// stored (K,N), or (N,K) when transB. Leading dimensions (row strides, in
// elements) default to the contiguous value when 0; batch strides are in
// elements. bf16: operands are rounded to bf16, accumulation stays fp32
// (the "mixed" precision of SPEC §4).
typedef struct {
    int transA, transB;
    int M, N, K;
    float alpha, beta;
    const float *A; int lda; long strideA;
    const float *B; int ldb; long strideB;
    float *C;       int ldc; long strideC;
    int batch;      // 0 means 1
    int bf16;
} GemmArgs;

struct RoutingOps;  // MoE routing ops: kernels/routing.h

typedef struct Ops {
    const char *name;  // "cpu" or "cuda"

    // ---- memory ------------------------------------------------------------
    void *(*alloc)(size_t bytes);  // zero-filled; dies naming the size on failure
    void (*free)(void *p);
    void (*to_device)(void *dst, const void *host_src, size_t bytes);
    void (*to_host)(void *host_dst, const void *src, size_t bytes);
    void (*copy)(void *dst, const void *src, size_t bytes);
    void (*zero)(void *p, size_t bytes);
    void (*synchronize)(void);
    // Bytes of memory still free on the device (host RAM for cpu), for sizing a
    // run up front; and a human-readable device name ("NVIDIA H100 80GB HBM3").
    size_t (*memory_available)(void);
    const char *(*device_name)(void);

    // ---- dense algebra -----------------------------------------------------
    void (*gemm)(const GemmArgs *g);
    // out (N,C) += bias (C) broadcast over rows
    void (*bias_forward)(float *out, const float *bias, int N, int C);
    // dbias (C) += column sums of dout (N,C)
    void (*bias_backward)(float *dbias, const float *dout, int N, int C);
    // y (n) += a * x (n)
    void (*axpy)(float *y, float a, const float *x, size_t n);
    // x (n) = value
    void (*fill)(float *x, float value, size_t n);
    // out (B,A,C) = inp (A,B,C) with the first two axes swapped
    void (*transpose01)(float *out, const float *inp, int A, int B, int C);

    // ---- transformer ops ---------------------------------------------------
    // out (B,T,C) = wte[tokens] (V,C) + wpe[t] (maxT,C)
    void (*encoder_forward)(float *out, const int *tokens, const float *wte,
                            const float *wpe, int B, int T, int C);
    void (*encoder_backward)(float *dwte, float *dwpe, const float *dout,
                             const int *tokens, int B, int T, int C);
    // out (N,C), mean (N), rstd (N); eps 1e-5
    void (*layernorm_forward)(float *out, float *mean, float *rstd, const float *inp,
                              const float *weight, const float *bias, int N, int C);
    void (*layernorm_backward)(float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int N, int C);
    void (*relu_forward)(float *out, const float *inp, size_t n);
    // dinp += dout * (out > 0)
    void (*relu_backward)(float *dinp, const float *dout, const float *out, size_t n);
    // Causal multi-head attention. qkv (B,T,3C): q, then k, then v, heads
    // contiguous (head h uses columns h*hs..h*hs+hs-1 of each). att (B,NH,T,T)
    // keeps the softmax probabilities for the backward pass; out (B,T,C).
    void (*attention_forward)(float *out, float *att, const float *qkv,
                              int B, int T, int C, int NH, int bf16);
    void (*attention_backward)(float *dqkv, const float *dout, const float *qkv,
                               const float *att, int B, int T, int C, int NH, int bf16);
    // Softmax over axis n of scale*inp viewed as (outer,n,inner).
    void (*softmax_forward)(float *out, const float *inp, int outer, int n, int inner,
                            float scale);
    // dinp += scale * out * (dout - sum_n(out * dout))
    void (*softmax_backward)(float *dinp, const float *dout, const float *out,
                             int outer, int n, int inner, float scale);
    // Fused softmax cross-entropy over logits (N,V). losses (N) get -log p[target]
    // (0 where target < 0). When dscale != 0 the logits are overwritten by their
    // gradient dscale * (softmax - onehot(target)) (0 rows where target < 0).
    void (*softmax_xent)(float *losses, float *logits, const int *targets, int N, int V,
                         float dscale);

    // ---- optimizer ---------------------------------------------------------
    // sum of squares / sum of x (n), returned to the host (synchronises)
    double (*sumsq)(const float *x, size_t n);
    double (*sum)(const float *x, size_t n);
    // AdamW with decoupled weight decay, bias-corrected at step t (1-based).
    // g is multiplied by grad_scale first (global-norm clipping). bf16_state
    // rounds params, m and v to bf16 after the update (precision "bf16").
    void (*adamw)(float *params, const float *grads, float *m, float *v, size_t n,
                  float lr, float beta1, float beta2, float eps, float weight_decay,
                  int t, float grad_scale, int bf16_state);
    // x (n) rounded to bf16 in place
    void (*round_bf16)(float *x, size_t n);

    // ---- MoE routing (kernels/routing.h) -----------------------------------
    const struct RoutingOps *routing;
} Ops;

// Every function slot of Ops, in declaration order. The tables are built from
// this list (kernels/ops_cpu.c: `.slot = slot##_cpu`; kernels/cuda/ops_cuda.cu:
// `.slot = cuda_##slot`), so a table missing an op is a compile error (an
// undeclared function) rather than a NULL slot met at run time; ops_cpu.c checks
// at compile time that the list names every slot. New op: add it here too.
#define OPS_FUNCTION_SLOTS(X)                                                           \
    X(alloc) X(free) X(to_device) X(to_host) X(copy) X(zero) X(synchronize)             \
    X(memory_available) X(device_name) X(gemm) X(bias_forward) X(bias_backward) X(axpy) \
    X(fill) X(transpose01) X(encoder_forward) X(encoder_backward) X(layernorm_forward)  \
    X(layernorm_backward) X(relu_forward) X(relu_backward) X(attention_forward)         \
    X(attention_backward) X(softmax_forward) X(softmax_backward) X(softmax_xent)        \
    X(sumsq) X(sum) X(adamw) X(round_bf16)

extern const Ops ops_cpu;
// The CUDA table, or NULL when built without CUDA or when no GPU is present;
// *why (if non-NULL) then gets a short reason.
const Ops *ops_cuda(const char **why);
