#include "impls/linear.h"

void linear_forward(const Ops *ops, float *out, const float *inp, const float *weight,
                    const float *bias, int N, int C, int OC, int bf16) {
    ops->gemm(&(GemmArgs){.transB = 1, .M = N, .N = OC, .K = C, .alpha = 1.0f, .beta = 0.0f,
                          .A = inp, .B = weight, .C = out, .bf16 = bf16});
    if (bias) ops->bias_forward(out, bias, N, OC);
}

void linear_backward(const Ops *ops, float *dinp, float *dweight, float *dbias,
                     const float *dout, const float *inp, const float *weight, int N, int C,
                     int OC, int bf16) {
    if (dinp)  // (N,OC)·(OC,C)
        ops->gemm(&(GemmArgs){.M = N, .N = C, .K = OC, .alpha = 1.0f, .beta = 1.0f,
                              .A = dout, .B = weight, .C = dinp, .bf16 = bf16});
    // (N,OC)ᵀ·(N,C)
    ops->gemm(&(GemmArgs){.transA = 1, .M = OC, .N = C, .K = N, .alpha = 1.0f, .beta = 1.0f,
                          .A = dout, .B = inp, .C = dweight, .bf16 = bf16});
    if (dbias) ops->bias_backward(dbias, dout, N, OC);
}
