// The CUDA implementations behind the op table, one group per .cu file. Each has
// exactly the signature and semantics of its slot in `Ops` (kernels/ops.h);
// kernels/cuda/ops_cuda.cu assembles them into the table.
#pragma once
#include "kernels/cuda/cuda_common.h"

// memory.cu
void *cuda_alloc(size_t bytes);
void cuda_free(void *p);
void cuda_to_device(void *dst, const void *host_src, size_t bytes);
void cuda_to_host(void *host_dst, const void *src, size_t bytes);
void cuda_copy(void *dst, const void *src, size_t bytes);
void cuda_zero(void *p, size_t bytes);
void cuda_synchronize(void);
size_t cuda_memory_available(void);
const char *cuda_device_name(void);

// gemm.cu
void cuda_gemm(const GemmArgs *g);

// bias.cu
void cuda_bias_forward(float *out, const float *bias, int N, int C);
void cuda_bias_backward(float *dbias, const float *dout, int N, int C);

// vector.cu
void cuda_axpy(float *y, float a, const float *x, size_t n);
void cuda_fill(float *x, float value, size_t n);
void cuda_round_bf16(float *x, size_t n);

// transpose.cu
void cuda_transpose01(float *out, const float *inp, int A, int B, int C);

// encoder.cu
void cuda_encoder_forward(float *out, const int *tokens, const float *wte, const float *wpe,
                          int B, int T, int C);
void cuda_encoder_backward(float *dwte, float *dwpe, const float *dout, const int *tokens,
                           int B, int T, int C);

// layernorm.cu
void cuda_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                            const float *weight, const float *bias, int N, int C);
void cuda_layernorm_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                             const float *inp, const float *weight, const float *mean,
                             const float *rstd, int N, int C);

// relu.cu
void cuda_relu_forward(float *out, const float *inp, size_t n);
void cuda_relu_backward(float *dinp, const float *dout, const float *out, size_t n);

// attention.cu
void cuda_attention_forward(float *out, float *att, const float *qkv, int B, int T, int C,
                            int NH, int bf16);
void cuda_attention_backward(float *dqkv, const float *dout, const float *qkv,
                             const float *att, int B, int T, int C, int NH, int bf16);

// softmax.cu
void cuda_softmax_forward(float *out, const float *inp, int outer, int n, int inner,
                          float scale);
void cuda_softmax_backward(float *dinp, const float *dout, const float *out, int outer, int n,
                           int inner, float scale);

// crossentropy.cu
void cuda_softmax_xent(float *losses, float *logits, const int *targets, int N, int V,
                       float dscale);

// reduce.cu
double cuda_sumsq(const float *x, size_t n);
double cuda_sum(const float *x, size_t n);

// adamw.cu
void cuda_adamw(float *params, const float *grads, float *m, float *v, size_t n, float lr,
                float beta1, float beta2, float eps, float weight_decay, int t,
                float grad_scale, int bf16_state);
