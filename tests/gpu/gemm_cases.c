// GEMM, CPU table against CUDA table, in fp32 and with bf16 operands. A bf16
// row also checks what the operands were rounded to: the CUDA result must sit far
// closer to the C product of round-to-nearest-even bf16 operands than to the
// fp32 product (an extra row), and an info line says which of nearest-even,
// truncated and fp32 operands the result matches best.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.h"
#include "tests/gpu/harness.h"

// The bf16 result's error against the nearest-even reference must be at most
// this fraction of its error against the fp32 reference (a correct GPU: ~1e-3;
// fp32 or truncated operands: ~1 or more).
#define MAX_BF16_TO_FP32_RATIO 0.1

typedef struct {
    int M, N, K, tA, tB, batch, bf16, pad, beta;
    int lda, ldb, ldc;
    long sA, sB, sC;
} GemmCase;

static GemmCase gemm_case(const int *d) {
    GemmCase c = {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], 0, 0, 0, 0, 0, 0};
    int a_rows = c.tA ? c.K : c.M, a_cols = c.tA ? c.M : c.K;  // A as stored
    int b_rows = c.tB ? c.N : c.K, b_cols = c.tB ? c.K : c.N;  // B as stored
    c.lda = a_cols + c.pad, c.ldb = b_cols + c.pad, c.ldc = c.N + c.pad;
    c.sA = (long)a_rows * c.lda, c.sB = (long)b_rows * c.ldb, c.sC = (long)c.M * c.ldc;
    return c;
}

static void gemm_on(const Ops *ops, const GemmCase *c, const float *A, const float *B, float *C,
                    int bf16) {
    GemmArgs g = {.transA = c->tA, .transB = c->tB, .M = c->M, .N = c->N, .K = c->K,
                  .alpha = 0.75f, .beta = (float)c->beta, .A = A, .lda = c->lda,
                  .strideA = c->sA, .B = B, .ldb = c->ldb, .strideB = c->sB, .C = C,
                  .ldc = c->ldc, .strideC = c->sC, .batch = c->batch, .bf16 = bf16};
    ops->gemm(&g);
}

static float *copy_of(const float *x, size_t n) {
    float *y = mallocCheck(n * sizeof(float));
    memcpy(y, x, n * sizeof(float));
    return y;
}

// x rounded towards zero to bf16 (the upper 16 bits kept), a copy.
static float *truncated_bf16(const float *x, size_t n) {
    float *y = copy_of(x, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &y[i], sizeof bits);
        bits &= 0xffff0000u;
        memcpy(&y[i], &bits, sizeof bits);
    }
    return y;
}

// C0: C before the product (beta may be 1). Reports the extra row and prints
// which operand rounding the table's result matches.
static void check_bf16_rounding(Harness *h, const GemmCase *c, const Twin *A, const Twin *B,
                                const Twin *C, const float *C0) {
    float *fp32 = copy_of(C0, C->n), *trunc = copy_of(C0, C->n);
    float *At = truncated_bf16(A->cpu, A->n), *Bt = truncated_bf16(B->cpu, B->n);
    gemm_on(&ops_cpu, c, A->cpu, B->cpu, fp32, 0);
    gemm_on(&ops_cpu, c, At, Bt, trunc, 0);
    double nearest = twin_error(h, C), vs_fp32 = twin_error_against(h, C, fp32),
           vs_trunc = twin_error_against(h, C, trunc);
    const char *best = nearest <= vs_trunc && nearest <= vs_fp32 ? "nearest-even"
                       : vs_trunc <= vs_fp32                      ? "truncated"
                                                                  : "fp32";
    if (!h->quiet)
        printf("    bf16 operands: result off nearest-even %.2e, truncated %.2e, fp32 %.2e -> %s\n",
               nearest, vs_trunc, vs_fp32, best);
    double ratio = vs_fp32 > 0.0 ? nearest / vs_fp32 : (nearest > 0.0 ? INFINITY : 0.0);
    harness_report(h, "gemm bf16 nearer bf16 than fp32", h->size ? h->size : "", ratio,
                   MAX_BF16_TO_FP32_RATIO);
    free(fp32);
    free(trunc);
    free(At);
    free(Bt);
}

// d: M, N, K, transA, transB, batch, bf16, pad (extra row stride), beta
static double run_gemm(Harness *h, const int *d) {
    GemmCase c = gemm_case(d);
    Twin A = twin_random(h, (size_t)c.sA * c.batch, 1.0f);
    Twin B = twin_random(h, (size_t)c.sB * c.batch, 1.0f);
    Twin C = twin_random(h, (size_t)c.sC * c.batch, 1.0f);
    float *C0 = c.bf16 ? copy_of(C.cpu, C.n) : NULL;
    FOR_EACH_SIDE(side) gemm_on(side_ops(h, side), &c, ON(A, side), ON(B, side), ON(C, side), c.bf16);
    if (c.bf16) check_bf16_rounding(h, &c, &A, &B, &C, C0);
    free(C0);
    twin_free(h, &A);
    twin_free(h, &B);
    return twins_error_free(h, &C, 1);
}

#define GEMM_DIMS "M,N,K,tA,tB,batch,bf16,pad,beta"
static const OpCase GEMM_CASES[] = {
    {"gemm", GEMM_DIMS, {37, 53, 29, 0, 0, 1, 0, 0, 0}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {37, 53, 29, 1, 0, 1, 0, 3, 1}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {37, 53, 29, 0, 1, 1, 0, 0, 1}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {37, 53, 29, 1, 1, 3, 0, 5, 0}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {4096, 512, 2048, 0, 0, 1, 0, 0, 0}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {4096, 2048, 512, 0, 1, 1, 0, 0, 0}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {2048, 512, 4096, 1, 0, 1, 0, 0, 1}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {256, 128, 512, 0, 0, 32, 0, 0, 0}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {512, 128, 256, 1, 0, 32, 0, 0, 1}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {256, 512, 128, 0, 1, 32, 0, 0, 1}, TOL_FP32, run_gemm},
    {"gemm", GEMM_DIMS, {37, 53, 29, 1, 1, 3, 1, 5, 1}, TOL_BF16, run_gemm},
    {"gemm", GEMM_DIMS, {4096, 512, 2048, 0, 0, 1, 1, 0, 0}, TOL_BF16, run_gemm},
    {"gemm", GEMM_DIMS, {4096, 2048, 512, 0, 1, 1, 1, 0, 1}, TOL_BF16, run_gemm},
    {"gemm", GEMM_DIMS, {256, 128, 512, 0, 0, 32, 1, 0, 0}, TOL_BF16, run_gemm},
    {"gemm", GEMM_DIMS, {512, 128, 256, 1, 0, 32, 1, 0, 1}, TOL_BF16, run_gemm},
    {"gemm", GEMM_DIMS, {256, 512, 128, 0, 1, 32, 1, 0, 1}, TOL_BF16, run_gemm},
};

void run_gemm_cases(Harness *h) {
    run_case_table(h, GEMM_CASES, sizeof GEMM_CASES / sizeof GEMM_CASES[0]);
}
