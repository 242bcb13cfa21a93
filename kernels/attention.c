// Causal multi-head self-attention. Every (sequence, head) pair is independent:
// OpenMP runs them in parallel and each does its two products with single-threaded
// sgemm on strided views of qkv, the softmax in between staying in cache.
#include <cblas.h>
#include <math.h>

#include "kernels/attention_shape.h"
#include "kernels/common.h"
#include "kernels/fast_exp.h"
#include "kernels/ops_cpu.h"

// Views of head h of sequence b: q, k, v are (T,hs) with row stride 3C; the
// output/dout head slice is (T,hs) with row stride C.
static size_t qkv_offset(AttentionShape s, int b, int h) {
    return (size_t)b * s.T * 3 * s.C + (size_t)h * s.hs;
}
static size_t out_offset(AttentionShape s, int b, int h) {
    return (size_t)b * s.T * s.C + (size_t)h * s.hs;
}

// Row t of scores (T,T) becomes softmax over columns 0..t; columns after t are 0.
static void causal_softmax(float *scores, int T) {
    for (int t = 0; t < T; t++) {
        float *row = scores + (size_t)t * T;
        float max = -INFINITY, sum = 0.0f;
        for (int j = 0; j <= t; j++) max = fmaxf(max, row[j]);
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j <= t; j++) {
            row[j] = fast_expf(row[j] - max);
            sum += row[j];
        }
        float norm = 1.0f / sum;
        for (int j = 0; j <= t; j++) row[j] *= norm;
        for (int j = t + 1; j < T; j++) row[j] = 0.0f;
    }
}

// datt (T,T) becomes the score gradient att * (datt - rowsum(att * datt)), which
// is 0 above the diagonal where att is.
static void causal_softmax_backward(float *datt, const float *att, int T) {
    for (int t = 0; t < T; t++) {
        float *d = datt + (size_t)t * T;
        const float *p = att + (size_t)t * T;
        float dot = 0.0f;
        for (int j = 0; j <= t; j++) dot += p[j] * d[j];
        for (int j = 0; j <= t; j++) d[j] = p[j] * (d[j] - dot);
        for (int j = t + 1; j < T; j++) d[j] = 0.0f;
    }
}

// The bf16 operand of a product: a rounded copy in `scratch`, or x itself in fp32.
static const float *operand_bf16(float *scratch, const float *x, size_t n, int bf16) {
    if (!bf16) return x;
    for (size_t i = 0; i < n; i++) scratch[i] = round_bf16(x[i]);
    return scratch;
}

void attention_forward_cpu(float *out, float *att, const float *qkv, int B, int T, int C,
                           int NH, int bf16) {
    // out (B,T,C), att (B,NH,T,T), qkv (B,T,3C)
    AttentionShape s = attention_shape(B, T, C, NH);
    float *qkv_bf16 = bf16 ? bf16_rounded_copy(qkv, (size_t)B * T * 3 * C) : NULL;
    const float *x = bf16 ? qkv_bf16 : qkv;
    int saved = blas_threads_serial_begin();
#pragma omp parallel if ((long)B * C * T * T > PARALLEL_MIN_WORK)
    {
        float *att_bf16 = bf16 ? mallocCheck((size_t)T * T * sizeof(float)) : NULL;  // (T,T)
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * NH; bh++) {
            int b = bh / NH, h = bh % NH;
            const float *q = x + qkv_offset(s, b, h), *k = q + C, *v = q + 2 * C;  // (T,hs)
            float *a = att + (size_t)bh * T * T;                                  // (T,T)
            // Full square of scores, scale folded in; the softmax masks the future.
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, s.hs, s.scale, q,
                        3 * C, k, 3 * C, 0.0f, a, T);
            causal_softmax(a, T);
            const float *p = operand_bf16(att_bf16, a, (size_t)T * T, bf16);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, s.hs, T, 1.0f, p, T, v,
                        3 * C, 0.0f, out + out_offset(s, b, h), C);
        }
        free(att_bf16);
    }
    blas_threads_serial_end(saved);
    free(qkv_bf16);
}

void attention_backward_cpu(float *dqkv, const float *dout, const float *qkv,
                            const float *att, int B, int T, int C, int NH, int bf16) {
    // dqkv (B,T,3C) +=, dout (B,T,C), qkv (B,T,3C), att (B,NH,T,T)
    AttentionShape s = attention_shape(B, T, C, NH);
    float *qkv_bf16 = bf16 ? bf16_rounded_copy(qkv, (size_t)B * T * 3 * C) : NULL;
    float *dout_bf16 = bf16 ? bf16_rounded_copy(dout, (size_t)B * T * C) : NULL;
    const float *x = bf16 ? qkv_bf16 : qkv, *dy = bf16 ? dout_bf16 : dout;
    int saved = blas_threads_serial_begin();
#pragma omp parallel if ((long)B * C * T * T > PARALLEL_MIN_WORK)
    {
        float *dscores = mallocCheck((size_t)T * T * sizeof(float));              // (T,T)
        float *att_bf16 = bf16 ? mallocCheck((size_t)T * T * sizeof(float)) : NULL;  // (T,T)
#pragma omp for schedule(static)
        for (int bh = 0; bh < B * NH; bh++) {
            int b = bh / NH, h = bh % NH;
            const float *q = x + qkv_offset(s, b, h), *k = q + C, *v = q + 2 * C;  // (T,hs)
            float *dq = dqkv + qkv_offset(s, b, h), *dk = dq + C, *dv = dq + 2 * C;  // (T,hs)
            const float *g = dy + out_offset(s, b, h);                              // (T,hs)
            const float *a = att + (size_t)bh * T * T;                             // (T,T)
            const float *p = operand_bf16(att_bf16, a, (size_t)T * T, bf16);
            // dv += attᵀ·dout; datt = dout·vᵀ
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, s.hs, T, 1.0f, p, T, g, C,
                        1.0f, dv, 3 * C);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, s.hs, 1.0f, g, C, v,
                        3 * C, 0.0f, dscores, T);
            causal_softmax_backward(dscores, a, T);
            const float *ds = operand_bf16(dscores, dscores, (size_t)T * T, bf16);
            // scores = scale·q·kᵀ: dq += scale·dscores·k; dk += scale·dscoresᵀ·q
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, s.hs, T, s.scale, ds, T,
                        k, 3 * C, 1.0f, dq, 3 * C);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, s.hs, T, s.scale, ds, T, q,
                        3 * C, 1.0f, dk, 3 * C);
        }
        free(dscores);
        free(att_bf16);
    }
    blas_threads_serial_end(saved);
    free(qkv_bf16);
    free(dout_bf16);
}
