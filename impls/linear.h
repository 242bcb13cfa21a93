// y = x·Wᵀ + b with PyTorch-layout weights W (out,in), composed from the op
// table's gemm and bias ops. Shared by attention, the dense FF and the LM head.
#pragma once
#include "kernels/ops.h"

// out (N,OC) = inp (N,C) · weight (OC,C)ᵀ + bias (OC); bias may be NULL.
void linear_forward(const Ops *ops, float *out, const float *inp, const float *weight,
                    const float *bias, int N, int C, int OC, int bf16);
// dinp (N,C) += dout·W; dweight (OC,C) += doutᵀ·inp; dbias (OC) += colsum(dout).
// dinp and dbias may be NULL.
void linear_backward(const Ops *ops, float *dinp, float *dweight, float *dbias,
                     const float *dout, const float *inp, const float *weight, int N, int C,
                     int OC, int bf16);
