// The plain-C kernels behind `ops_cpu` (kernels/ops_cpu.c), one file each:
// the reference every other backend is tested against. Semantics, shapes and the
// overwrite/accumulate conventions are those documented in kernels/ops.h.
#pragma once
#include "kernels/gemm.h"
#include "kernels/ops.h"

// Loops over less work than this (elements touched) stay on one thread: waking
// the OpenMP team costs more, and far more on a loaded machine.
#define PARALLEL_MIN_WORK (1L << 15)

// kernels/memory_cpu.c
void *alloc_cpu(size_t bytes);
void free_cpu(void *p);
void copy_cpu(void *dst, const void *src, size_t bytes);  // to_device, to_host, copy
void zero_cpu(void *p, size_t bytes);
void synchronize_cpu(void);
size_t memory_available_cpu(void);
const char *device_name_cpu(void);

// kernels/bias.c
void bias_forward_cpu(float *out, const float *bias, int N, int C);
void bias_backward_cpu(float *dbias, const float *dout, int N, int C);

// kernels/vector.c
void axpy_cpu(float *y, float a, const float *x, size_t n);
void fill_cpu(float *x, float value, size_t n);
void round_bf16_cpu(float *x, size_t n);

// kernels/transpose.c
void transpose01_cpu(float *out, const float *inp, int A, int B, int C);

// kernels/encoder.c
void encoder_forward_cpu(float *out, const int *tokens, const float *wte, const float *wpe,
                         int B, int T, int C);
void encoder_backward_cpu(float *dwte, float *dwpe, const float *dout, const int *tokens,
                          int B, int T, int C);

// kernels/layernorm.c
void layernorm_forward_cpu(float *out, float *mean, float *rstd, const float *inp,
                           const float *weight, const float *bias, int N, int C);
void layernorm_backward_cpu(float *dinp, float *dweight, float *dbias, const float *dout,
                            const float *inp, const float *weight, const float *mean,
                            const float *rstd, int N, int C);

// kernels/relu.c
void relu_forward_cpu(float *out, const float *inp, size_t n);
void relu_backward_cpu(float *dinp, const float *dout, const float *out, size_t n);

// kernels/attention.c
void attention_forward_cpu(float *out, float *att, const float *qkv, int B, int T, int C,
                           int NH, int bf16);
void attention_backward_cpu(float *dqkv, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH, int bf16);

// kernels/softmax.c
void softmax_forward_cpu(float *out, const float *inp, int outer, int n, int inner,
                         float scale);
void softmax_backward_cpu(float *dinp, const float *dout, const float *out, int outer, int n,
                          int inner, float scale);

// kernels/crossentropy.c
void softmax_xent_cpu(float *losses, float *logits, const int *targets, int N, int V,
                      float dscale);

// kernels/reduce.c
double sumsq_cpu(const float *x, size_t n);
double sum_cpu(const float *x, size_t n);

// kernels/adamw.c
void adamw_cpu(float *params, const float *grads, float *m, float *v, size_t n, float lr,
               float beta1, float beta2, float eps, float weight_decay, int t,
               float grad_scale, int bf16_state);
