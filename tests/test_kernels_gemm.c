// ops_cpu.gemm: every transpose combination and strided-batched layout against a
// naive triple loop, gradients of the product (computed by gemm itself, as the
// linear layers do) against finite differences, and the bf16 operand rounding.
#include "kernels/gemm.h"
#include "kernels/ops_cpu.h"
#include "tests/testutil.h"

#include "kernels/common.h"

// Operand layout of a test case: row strides and batch strides padded beyond the
// contiguous values when `padded`, so that gaps exist that gemm must not touch.
typedef struct {
    int transA, transB, M, N, K, batch, padded;
} Case;

typedef struct {
    GemmArgs g;
    float *A, *B, *C;                // buffers covering the whole strided batch
    size_t a_size, b_size, c_size;  // elements
} Problem;

static size_t batch_extent(int rows, int ld, long stride, int batch) {
    return (size_t)(batch - 1) * stride + (size_t)rows * ld;
}

static Problem problem_make(Case c, uint64_t seed) {
    int a_rows = c.transA ? c.K : c.M, a_cols = c.transA ? c.M : c.K;
    int b_rows = c.transB ? c.N : c.K, b_cols = c.transB ? c.K : c.N;
    int pad = c.padded ? 3 : 0;
    Problem p = {.g = {.transA = c.transA, .transB = c.transB, .M = c.M, .N = c.N, .K = c.K,
                       .alpha = 1.0f, .batch = c.batch}};
    p.g.lda = a_cols + pad;
    p.g.ldb = b_cols + 2 * pad;
    p.g.ldc = c.N + pad;
    p.g.strideA = (long)a_rows * p.g.lda + 5 * pad;
    p.g.strideB = (long)b_rows * p.g.ldb + 7 * pad;
    p.g.strideC = (long)c.M * p.g.ldc + 2 * pad;
    p.a_size = batch_extent(a_rows, p.g.lda, p.g.strideA, c.batch);
    p.b_size = batch_extent(b_rows, p.g.ldb, p.g.strideB, c.batch);
    p.c_size = batch_extent(c.M, p.g.ldc, p.g.strideC, c.batch);
    p.A = malloc(p.a_size * sizeof(float));
    p.B = malloc(p.b_size * sizeof(float));
    p.C = malloc(p.c_size * sizeof(float));
    test_fill_uniform(p.A, p.a_size, 1.0f, seed);
    test_fill_uniform(p.B, p.b_size, 1.0f, seed + 1);
    test_fill_uniform(p.C, p.c_size, 1.0f, seed + 2);
    p.g.A = p.A, p.g.B = p.B, p.g.C = p.C;
    return p;
}

static void problem_free(Problem *p) {
    free(p->A);
    free(p->B);
    free(p->C);
}

// C = alpha·op(A)·op(B) + beta·C in double, touching only the M x N entries.
static void gemm_naive(const GemmArgs *g, float *C) {
    for (int b = 0; b < g->batch; b++) {
        const float *A = g->A + b * g->strideA, *B = g->B + b * g->strideB;
        float *Cb = C + b * g->strideC;
        for (int i = 0; i < g->M; i++)
            for (int j = 0; j < g->N; j++) {
                double s = 0;
                for (int k = 0; k < g->K; k++) {
                    float a = g->transA ? A[k * g->lda + i] : A[i * g->lda + k];
                    float bk = g->transB ? B[j * g->ldb + k] : B[k * g->ldb + j];
                    s += (double)a * bk;
                }
                float *c = &Cb[i * g->ldc + j];
                *c = (float)(g->alpha * s + g->beta * (double)*c);
            }
    }
}

static const Case forward_cases[] = {
    {0, 0, 7, 5, 3, 1, 0}, {1, 0, 7, 5, 3, 1, 1}, {0, 1, 6, 9, 4, 3, 1},
    {1, 1, 6, 9, 4, 3, 1}, {0, 0, 33, 17, 65, 8, 1},
    // per-matrix work above the small-batch threshold: OpenBLAS threads each one
    {0, 1, 300, 280, 220, 2, 1},
};

START_TEST(test_gemm_matches_naive) {
    Case c = forward_cases[_i];
    Problem p = problem_make(c, 10 + _i);
    p.g.alpha = 0.7f;
    p.g.beta = 0.3f;
    float *expect = malloc(p.c_size * sizeof(float));
    memcpy(expect, p.C, p.c_size * sizeof(float));
    gemm_naive(&p.g, expect);
    gemm_cpu(&p.g);
    // Exact equality also checks that padding between rows and batch entries of C
    // is untouched; the products themselves agree to fp32 rounding.
    for (size_t i = 0; i < p.c_size; i++)
        ck_assert_msg(fabsf(p.C[i] - expect[i]) <= 2e-5f * (1.0f + fabsf(expect[i])),
                      "case %d element %zu: gemm %g, naive %g", _i, i, p.C[i], expect[i]);
    free(expect);
    problem_free(&p);
}
END_TEST

// L = sum(W ⊙ C), C = op(A)·op(B): the gradients are themselves products,
// computed with gemm the way linear_backward does, in the operands' own layouts.
typedef struct {
    Problem p;
    float *W;  // same layout as C
} GradCtx;

static double product_objective(void *arg) {
    GradCtx *ctx = arg;
    memset(ctx->p.C, 0, ctx->p.c_size * sizeof(float));
    gemm_cpu(&ctx->p.g);
    return test_dot(ctx->W, ctx->p.C, ctx->p.c_size);
}

// dop(A) = W·op(B)ᵀ (M,K) stored into dA in A's layout (transposed when transA).
static void grad_A(const GemmArgs *g, const float *W, float *dA) {
    GemmArgs d = {.alpha = 1.0f, .beta = 1.0f, .batch = g->batch};
    if (!g->transA)  // dA (M,K) = W (M,N) · op(B)ᵀ
        d = (GemmArgs){.transA = 0, .transB = !g->transB, .M = g->M, .N = g->K, .K = g->N,
                       .A = W, .lda = g->ldc, .strideA = g->strideC,
                       .B = g->B, .ldb = g->ldb, .strideB = g->strideB};
    else  // dA (K,M) = op(B) (K,N) · Wᵀ
        d = (GemmArgs){.transA = g->transB, .transB = 1, .M = g->K, .N = g->M, .K = g->N,
                       .A = g->B, .lda = g->ldb, .strideA = g->strideB,
                       .B = W, .ldb = g->ldc, .strideB = g->strideC};
    d.alpha = 1.0f, d.beta = 1.0f, d.batch = g->batch;
    d.C = dA, d.ldc = g->lda, d.strideC = g->strideA;
    gemm_cpu(&d);
}

// dop(B) = op(A)ᵀ·W (K,N) stored into dB in B's layout.
static void grad_B(const GemmArgs *g, const float *W, float *dB) {
    GemmArgs d;
    if (!g->transB)  // dB (K,N) = op(A)ᵀ (K,M) · W (M,N)
        d = (GemmArgs){.transA = !g->transA, .transB = 0, .M = g->K, .N = g->N, .K = g->M,
                       .A = g->A, .lda = g->lda, .strideA = g->strideA,
                       .B = W, .ldb = g->ldc, .strideB = g->strideC};
    else  // dB (N,K) = Wᵀ (N,M) · op(A) (M,K)
        d = (GemmArgs){.transA = 1, .transB = g->transA, .M = g->N, .N = g->K, .K = g->M,
                       .A = W, .lda = g->ldc, .strideA = g->strideC,
                       .B = g->A, .ldb = g->lda, .strideB = g->strideA};
    d.alpha = 1.0f, d.beta = 1.0f, d.batch = g->batch;
    d.C = dB, d.ldc = g->ldb, d.strideC = g->strideB;
    gemm_cpu(&d);
}

static const Case grad_cases[] = {
    {0, 0, 4, 5, 3, 1, 0}, {1, 0, 4, 5, 3, 1, 0}, {0, 1, 4, 5, 3, 1, 0}, {1, 1, 4, 5, 3, 1, 0},
    {0, 0, 3, 4, 5, 2, 1}, {1, 0, 3, 4, 5, 2, 1}, {0, 1, 3, 4, 5, 2, 1}, {1, 1, 3, 4, 5, 2, 1},
};

START_TEST(test_gemm_gradients) {
    GradCtx ctx = {.p = problem_make(grad_cases[_i], 40 + _i)};
    ctx.W = malloc(ctx.p.c_size * sizeof(float));
    test_fill_uniform(ctx.W, ctx.p.c_size, 1.0f, 99);
    float *dA = calloc(ctx.p.a_size, sizeof(float)), *dB = calloc(ctx.p.b_size, sizeof(float));
    grad_A(&ctx.p.g, ctx.W, dA);
    grad_B(&ctx.p.g, ctx.W, dB);
    // Padding elements of A and B have zero gradient both ways: gemm must not write them.
    double err_a = test_grad_check(product_objective, &ctx, ctx.p.A, dA, ctx.p.a_size, 1e-2f);
    double err_b = test_grad_check(product_objective, &ctx, ctx.p.B, dB, ctx.p.b_size, 1e-2f);
    ck_assert_msg(err_a < 1e-4 && err_b < 1e-4, "case %d: dA err %g, dB err %g", _i, err_a, err_b);
    free(dA);
    free(dB);
    free(ctx.W);
    problem_free(&ctx.p);
}
END_TEST

START_TEST(test_gemm_bf16_rounds_operands) {
    Problem p = problem_make((Case){0, 1, 40, 30, 50, 3, 1}, 7);
    float *C_fp32 = malloc(p.c_size * sizeof(float)), *C_ref = malloc(p.c_size * sizeof(float));
    gemm_cpu(&p.g);
    memcpy(C_fp32, p.C, p.c_size * sizeof(float));
    p.g.bf16 = 1;
    gemm_cpu(&p.g);
    // Same product on operands rounded beforehand, in fp32: identical bits.
    for (size_t i = 0; i < p.a_size; i++) p.A[i] = round_bf16(p.A[i]);
    for (size_t i = 0; i < p.b_size; i++) p.B[i] = round_bf16(p.B[i]);
    p.g.bf16 = 0;
    p.g.C = C_ref;
    memset(C_ref, 0, p.c_size * sizeof(float));
    gemm_cpu(&p.g);
    p.g.C = p.C;
    double differs_from_fp32 = test_norm_rel_err(p.C, C_fp32, p.c_size);
    for (int b = 0; b < p.g.batch; b++)
        for (int i = 0; i < p.g.M; i++)
            for (int j = 0; j < p.g.N; j++) {
                size_t k = b * p.g.strideC + i * p.g.ldc + j;
                ck_assert_msg(p.C[k] == C_ref[k], "bf16 gemm %g != gemm of rounded operands %g",
                              p.C[k], C_ref[k]);
            }
    // 8-bit mantissas: about 2^-9 relative error per operand, averaged over K terms.
    ck_assert_msg(differs_from_fp32 > 1e-4 && differs_from_fp32 < 1e-2,
                  "bf16 vs fp32 relative difference %g", differs_from_fp32);
    free(C_fp32);
    free(C_ref);
    problem_free(&p);
}
END_TEST

START_TEST(test_gemm_rejects_short_row_stride) {
    float A[6] = {0}, B[6] = {0}, C[4] = {0};
    // A is (2,3) but lda 2 < 3: a caller bug that must stop with a message.
    gemm_cpu(&(GemmArgs){.M = 2, .N = 2, .K = 3, .alpha = 1.0f, .A = A, .lda = 2, .B = B,
                         .C = C});
}
END_TEST

START_TEST(test_gemm_measure_gflops) {
    double rate = gemm_measure_gflops(128, 128, 128, 0.05);
    // Any machine this runs on does far more than 0.1 and far less than 1e6 GFLOP/s.
    ck_assert_msg(rate > 0.1 && rate < 1e6, "measured %g GFLOP/s", rate);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_gemm");
    TCase *tc = tcase_create("gemm");
    tcase_set_timeout(tc, 60);
    int n_forward = sizeof forward_cases / sizeof forward_cases[0];
    int n_grad = sizeof grad_cases / sizeof grad_cases[0];
    tcase_add_loop_test(tc, test_gemm_matches_naive, 0, n_forward);
    tcase_add_loop_test(tc, test_gemm_gradients, 0, n_grad);
    tcase_add_test(tc, test_gemm_bf16_rounds_operands);
    tcase_add_exit_test(tc, test_gemm_rejects_short_row_stride, 1);
    tcase_add_test(tc, test_gemm_measure_gflops);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
