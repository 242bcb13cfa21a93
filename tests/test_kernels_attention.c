// Causal multi-head attention on the CPU: forward against a naive double-precision
// loop, causality, the backward pass against central differences, bf16 operands.
#include "kernels/common.h"
#include "kernels/ops_cpu.h"
#include "tests/testutil.h"

typedef struct {
    int B, T, C, NH;
} Shape;

static size_t qkv_size(Shape s) { return (size_t)s.B * s.T * 3 * s.C; }
static size_t out_size(Shape s) { return (size_t)s.B * s.T * s.C; }
static size_t att_size(Shape s) { return (size_t)s.B * s.NH * s.T * s.T; }

// out (B,T,C) and att (B,NH,T,T) straight from the definition, in double.
static void attention_naive(double *out, double *att, const float *qkv, Shape s) {
    int hs = s.C / s.NH;
    double scale = 1.0 / sqrt(hs);
    for (int b = 0; b < s.B; b++)
        for (int h = 0; h < s.NH; h++)
            for (int t = 0; t < s.T; t++) {
                const float *q = qkv + ((size_t)b * s.T + t) * 3 * s.C + h * hs;
                double *p = att + (((size_t)b * s.NH + h) * s.T + t) * s.T;
                double max = -INFINITY, sum = 0;
                for (int j = 0; j < s.T; j++) {
                    const float *k = qkv + ((size_t)b * s.T + j) * 3 * s.C + s.C + h * hs;
                    double dot = 0;
                    for (int d = 0; d < hs; d++) dot += (double)q[d] * k[d];
                    p[j] = j <= t ? scale * dot : -INFINITY;
                    max = fmax(max, p[j]);
                }
                for (int j = 0; j < s.T; j++) sum += p[j] = exp(p[j] - max);
                for (int j = 0; j < s.T; j++) p[j] /= sum;
                double *o = out + ((size_t)b * s.T + t) * s.C + h * hs;
                for (int d = 0; d < hs; d++) {
                    o[d] = 0;
                    for (int j = 0; j <= t; j++)
                        o[d] += p[j] * qkv[((size_t)b * s.T + j) * 3 * s.C + 2 * s.C + h * hs + d];
                }
            }
}

static const Shape forward_shapes[] = {{2, 7, 12, 3}, {2, 64, 32, 2}, {1, 1, 8, 2}};

START_TEST(test_attention_matches_naive) {
    Shape s = forward_shapes[_i];
    float *qkv = malloc(qkv_size(s) * sizeof(float));
    test_fill_uniform(qkv, qkv_size(s), 2.0f, 1 + _i);
    float *out = malloc(out_size(s) * sizeof(float)), *att = malloc(att_size(s) * sizeof(float));
    double *out_ref = malloc(out_size(s) * sizeof(double));
    double *att_ref = malloc(att_size(s) * sizeof(double));
    for (size_t i = 0; i < att_size(s); i++) att[i] = NAN;  // every entry must be written
    attention_forward_cpu(out, att, qkv, s.B, s.T, s.C, s.NH, 0);
    attention_naive(out_ref, att_ref, qkv, s);
    for (size_t i = 0; i < att_size(s); i++) {
        ck_assert_msg(fabs(att[i] - att_ref[i]) < 1e-6, "att[%zu] %g vs %g", i, att[i], att_ref[i]);
        if (att_ref[i] == 0.0) ck_assert_float_eq(att[i], 0.0f);  // above the diagonal
    }
    for (size_t i = 0; i < out_size(s); i++)
        ck_assert_msg(fabs(out[i] - out_ref[i]) < 1e-5, "out[%zu] %g vs %g", i, out[i], out_ref[i]);
    free(qkv), free(out), free(att), free(out_ref), free(att_ref);
}
END_TEST

START_TEST(test_attention_is_causal) {
    Shape s = {2, 9, 16, 4};
    const int future = 5, seq = 1;
    float *qkv = malloc(qkv_size(s) * sizeof(float));
    test_fill_uniform(qkv, qkv_size(s), 1.0f, 7);
    float *out = malloc(out_size(s) * sizeof(float)), *out2 = malloc(out_size(s) * sizeof(float));
    float *att = malloc(att_size(s) * sizeof(float));
    attention_forward_cpu(out, att, qkv, s.B, s.T, s.C, s.NH, 0);
    // Change q, k and v of one token: nothing before it (nor the other sequence) moves.
    float *token = qkv + ((size_t)seq * s.T + future) * 3 * s.C;
    for (int c = 0; c < 3 * s.C; c++) token[c] = 5.0f - token[c];
    attention_forward_cpu(out2, att, qkv, s.B, s.T, s.C, s.NH, 0);
    for (int b = 0; b < s.B; b++)
        for (int t = 0; t < s.T; t++) {
            size_t row = ((size_t)b * s.T + t) * s.C;
            int same = memcmp(out + row, out2 + row, s.C * sizeof(float)) == 0;
            int may_change = b == seq && t >= future;
            ck_assert_msg(same != may_change, "sequence %d position %d: output %s", b, t,
                          same ? "did not change" : "changed");
        }
    free(qkv), free(out), free(out2), free(att);
}
END_TEST

typedef struct {
    Shape s;
    int bf16;
    float *qkv, *out, *att, *w, *dqkv;
} AttentionCtx;

static double attention_objective(void *arg) {
    AttentionCtx *c = arg;
    attention_forward_cpu(c->out, c->att, c->qkv, c->s.B, c->s.T, c->s.C, c->s.NH, c->bf16);
    return test_dot(c->w, c->out, out_size(c->s));
}

static AttentionCtx attention_ctx(Shape s, uint64_t seed) {
    AttentionCtx c = {.s = s};
    c.qkv = malloc(qkv_size(s) * sizeof(float));
    c.w = malloc(out_size(s) * sizeof(float));
    test_fill_uniform(c.qkv, qkv_size(s), 2.0f, seed);
    test_fill_uniform(c.w, out_size(s), 1.0f, seed + 1);
    c.out = malloc(out_size(s) * sizeof(float));
    c.att = malloc(att_size(s) * sizeof(float));
    c.dqkv = calloc(qkv_size(s), sizeof(float));
    attention_objective(&c);
    return c;
}

static void attention_ctx_free(AttentionCtx *c) {
    free(c->qkv), free(c->w), free(c->out), free(c->att), free(c->dqkv);
}

static void attention_backward(AttentionCtx *c) {
    attention_backward_cpu(c->dqkv, c->w, c->qkv, c->att, c->s.B, c->s.T, c->s.C, c->s.NH,
                           c->bf16);
}

START_TEST(test_attention_gradient) {
    AttentionCtx c = attention_ctx((Shape){2, 6, 12, 3}, 11);
    size_t n = qkv_size(c.s);
    attention_backward(&c);
    float *once = malloc(n * sizeof(float));
    memcpy(once, c.dqkv, n * sizeof(float));
    attention_backward(&c);  // dqkv accumulates
    double doubling = test_doubling_err(once, c.dqkv, n);
    ck_assert_msg(doubling < 1e-6, "dqkv not accumulated: err %g", doubling);
    double err = test_grad_check(attention_objective, &c, c.qkv, once, n, 1e-2f);
    ck_assert_msg(err < 1e-3, "dqkv err %g", err);
    free(once);
    attention_ctx_free(&c);
}
END_TEST

START_TEST(test_attention_bf16_operands) {
    // bf16 products round q, k, v, the probabilities and the gradients to 8-bit
    // mantissas: about 2^-9 relative per operand, so results move by ~1e-3.
    Shape s = {2, 16, 32, 4};
    AttentionCtx fp32 = attention_ctx(s, 21), bf16 = attention_ctx(s, 21);
    bf16.bf16 = 1;
    attention_objective(&bf16);
    attention_backward(&fp32);
    attention_backward(&bf16);
    double out_err = test_norm_rel_err(bf16.out, fp32.out, out_size(s));
    double grad_err = test_norm_rel_err(bf16.dqkv, fp32.dqkv, qkv_size(s));
    ck_assert_msg(out_err > 1e-5 && out_err < 1e-2, "bf16 vs fp32 output: %g", out_err);
    ck_assert_msg(grad_err > 1e-5 && grad_err < 2e-2, "bf16 vs fp32 dqkv: %g", grad_err);
    // the stored probabilities are fp32 softmaxes of bf16 scores: rows still sum to 1
    for (int row = 0; row < s.B * s.NH * s.T; row++) {
        double sum = 0;
        for (int j = 0; j < s.T; j++) sum += bf16.att[(size_t)row * s.T + j];
        ck_assert_double_eq_tol(sum, 1.0, 1e-5);
    }
    attention_ctx_free(&fp32);
    attention_ctx_free(&bf16);
}
END_TEST

START_TEST(test_attention_rejects_uneven_heads) {
    float qkv[3 * 10] = {0}, out[10], att[3];
    attention_forward_cpu(out, att, qkv, 1, 1, 10, 3, 0);  // 10 channels, 3 heads
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_attention");
    TCase *tc = tcase_create("attention");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_attention_matches_naive, 0,
                        sizeof forward_shapes / sizeof forward_shapes[0]);
    tcase_add_test(tc, test_attention_is_causal);
    tcase_add_test(tc, test_attention_gradient);
    tcase_add_test(tc, test_attention_bf16_operands);
    tcase_add_exit_test(tc, test_attention_rejects_uneven_heads, 1);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
