// Mixture of Tokens layer (impls/ff_mot.c) on the CPU: forward against a direct
// double-precision transcription of SPEC §2, gradients by finite differences,
// the G = 1 / uniform / discrete special cases, causality, batch padding, errors.
#include "impls/model.h"
#include "kernels/routing.h"
#include "tests/ff_harness.h"

enum { MAX_G = 16, MAX_D = 16 };

typedef enum { WEIGHTS_SOFTMAX, WEIGHTS_UNIFORM, WEIGHTS_ARGMAX } WeightMode;

// y (d) = ReLU(x (d) · lin1_e (d,es)) · lin2_e (es,d), in double.
static void naive_expert(FFHarness *h, int e, const double *x, double *y) {
    int d = h->cfg.d, es = h->cfg.expert_size;
    const float *w1 = ffh_param(h, "lin1") + (size_t)e * d * es;  // (d,es)
    const float *w2 = ffh_param(h, "lin2") + (size_t)e * es * d;  // (es,d)
    for (int o = 0; o < d; o++) y[o] = 0;
    for (int j = 0; j < es; j++) {
        double a = 0;
        for (int i = 0; i < d; i++) a += x[i] * w1[i * es + j];
        if (a <= 0) continue;
        for (int o = 0; o < d; o++) y[o] += a * w2[j * d + o];
    }
}

// SPEC §2 step by step for one group of G same-position tokens; rows (G) index x/out
// (B,T,d) rows. Only the first `real` rows of the group exist (padding).
static void naive_group(FFHarness *h, WeightMode mode, const float *x, const int *rows,
                        int real, double *out) {
    int d = h->cfg.d, E = h->cfg.n_experts;
    const float *wc = ffh_param(h, "router");  // (d,E)
    double w[MAX_G], m[MAX_D], y[MAX_D];
    for (int e = 0; e < E; e++) {
        double logit[MAX_G], mx = -INFINITY, sum = 0;
        int best = 0;
        for (int i = 0; i < real; i++) {
            logit[i] = 0;
            for (int k = 0; k < d; k++) logit[i] += (double)x[rows[i] * d + k] * wc[k * E + e];
            logit[i] /= h->cfg.temperature;
            if (logit[i] > mx) mx = logit[i], best = i;
        }
        for (int i = 0; i < real; i++) {
            if (mode == WEIGHTS_SOFTMAX) w[i] = exp(logit[i] - mx);
            if (mode == WEIGHTS_UNIFORM) w[i] = 1.0;
            if (mode == WEIGHTS_ARGMAX) w[i] = (i == best);
            sum += w[i];
        }
        for (int k = 0; k < d; k++) m[k] = 0;
        for (int i = 0; i < real; i++)
            for (int k = 0; k < d; k++) m[k] += w[i] / sum * x[rows[i] * d + k];
        naive_expert(h, e, m, y);
        for (int i = 0; i < real; i++)
            for (int k = 0; k < d; k++) out[i * d + k] += w[i] / sum * y[k];
    }
}

// Largest |layer - reference| over the batch; groups are consecutive batch rows.
static double mot_forward_error(FFHarness *h, WeightMode mode, const float *x) {
    int B = h->B, T = h->T, d = h->cfg.d, G = h->cfg.group_size;
    float *out = mallocCheck(ffh_numel(h) * sizeof(float));
    ffh_forward(h, x, out);
    double worst = 0;
    for (int t = 0; t < T; t++)
        for (int b0 = 0; b0 < B; b0 += G) {
            int rows[MAX_G], real = B - b0 < G ? B - b0 : G;
            for (int i = 0; i < real; i++) rows[i] = (b0 + i) * T + t;
            double ref[MAX_G * MAX_D] = {0};
            naive_group(h, mode, x, rows, real, ref);
            for (int i = 0; i < real; i++)
                for (int k = 0; k < d; k++)
                    worst = test_worse(worst, fabs(out[rows[i] * d + k] - ref[i * d + k]));
        }
    free(out);
    return worst;
}

static float *random_input(const FFHarness *h, uint64_t seed) {
    float *x = mallocCheck(ffh_numel(h) * sizeof(float));
    test_fill_uniform(x, ffh_numel(h), 1.0f, seed);
    return x;
}

START_TEST(test_forward_matches_spec) {
    const int groups[] = {2, 4};
    for (int i = 0; i < 2; i++) {
        FFConfig c = ffh_config(FF_MOT);
        c.group_size = groups[i];
        c.temperature = 0.7f;
        FFHarness h;
        ffh_init(&h, &ff_mot_vtable, &c, 4, 3, 0.5f, 11 + i);
        float *x = random_input(&h, 5);
        double err = mot_forward_error(&h, WEIGHTS_SOFTMAX, x);
        ck_assert_msg(err < 1e-5, "G=%d: forward off by %g", groups[i], err);
        free(x);
        ffh_free(&h);
    }
}
END_TEST

START_TEST(test_gradients) {
    const int groups[] = {2, 4};
    for (int i = 0; i < 2; i++) {
        FFConfig c = ffh_config(FF_MOT);
        c.group_size = groups[i];
        c.temperature = 0.7f;
        FFHarness h;
        ffh_init(&h, &ff_mot_vtable, &c, 4, 3, 0.5f, 21 + i);
        float *x = random_input(&h, 6);
        GradCheck gc = ffh_gradcheck(&h, x, 3);
        gradcheck_assert(gc, groups[i] == 2 ? "MoT G=2" : "MoT G=4");
        free(x);
        ffh_free(&h);
    }
}
END_TEST

// G = 1: every expert sees the token itself with weight 1, so the layer is the
// dense bias-free FF whose hidden layer is all experts side by side.
START_TEST(test_group_of_one_is_dense_ff) {
    FFConfig c = ffh_config(FF_MOT);
    c.group_size = 1;
    c.n_experts = 3;
    FFHarness h;
    ffh_init(&h, &ff_mot_vtable, &c, 3, 2, 0.5f, 31);
    float *x = random_input(&h, 7), *out = mallocCheck(ffh_numel(&h) * sizeof(float));
    ffh_forward(&h, x, out);
    int d = c.d, es = c.expert_size;
    const float *w1 = ffh_param(&h, "lin1"), *w2 = ffh_param(&h, "lin2");
    double worst = 0;
    for (int n = 0; n < h.B * h.T; n++)
        for (int o = 0; o < d; o++) {
            double ref = 0;
            for (int e = 0; e < c.n_experts; e++)
                for (int j = 0; j < es; j++) {
                    double a = 0;
                    for (int i = 0; i < d; i++) a += x[n * d + i] * w1[(e * d + i) * es + j];
                    ref += fmax(a, 0.0) * w2[(e * es + j) * d + o];
                }
            worst = test_worse(worst, fabs(out[n * d + o] - ref));
        }
    ck_assert_msg(worst < 1e-5, "G=1 differs from the dense FF by %g", worst);
    free(out);
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_uniform_routing) {
    FFConfig c = ffh_config(FF_MOT);
    c.group_size = 4;
    c.uniform = 1;
    FFHarness h;
    ffh_init(&h, &ff_mot_vtable, &c, 4, 3, 0.5f, 41);
    float *x = random_input(&h, 8), *out = mallocCheck(ffh_numel(&h) * sizeof(float));
    ck_assert_double_lt(mot_forward_error(&h, WEIGHTS_UNIFORM, x), 1e-5);
    // Weights exactly 1/G: each token of a group gets the very same output, and
    // the normalised entropy of the weights is exactly maximal.
    ffh_forward(&h, x, out);
    int T = h.T, d = c.d;
    for (int t = 0; t < T; t++)
        for (int b = 1; b < 4; b++)
            ck_assert_mem_eq(out + (b * T + t) * d, out + t * d, d * sizeof(float));
    FFStats st = {0};
    h.vt->stats(h.state, &ops_cpu, &h.cfg, &st);
    ck_assert_double_eq_tol(st.router_entropy, 1.0, 1e-6);
    // The controller is unused: its gradient is exactly zero, the rest is checked.
    GradCheck gc = ffh_gradcheck(&h, x, 4);
    gradcheck_assert(gc, "MoT uniform");
    memset(h.grads, 0, h.pt.total * sizeof(float));
    float *dx = callocCheck(ffh_numel(&h), sizeof(float));
    ffh_forward(&h, x, out);
    h.vt->backward(h.state, &ops_cpu, &h.cfg, &h.call, h.params, h.grads, out, dx);
    size_t router = param_offset(&h.pt, "ff.router");
    for (int i = 0; i < c.d * c.n_experts; i++) ck_assert_float_eq(h.grads[router + i], 0.0f);
    free(dx);
    free(out);
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_discrete_routing) {
    FFConfig c = ffh_config(FF_MOT);
    c.group_size = 4;
    FFHarness h;
    ffh_init(&h, &ff_mot_vtable, &c, 4, 3, 0.5f, 51);
    h.call.discrete = 1;
    float *x = random_input(&h, 9);
    ck_assert_double_lt(mot_forward_error(&h, WEIGHTS_ARGMAX, x), 1e-5);
    FFStats st = {0};
    h.vt->stats(h.state, &ops_cpu, &h.cfg, &st);
    ck_assert_double_eq(st.router_entropy, 0.0);  // one-hot weights
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_argmax_onehot_ties_go_to_lower_row) {
    // M=1 group of G=3 rows, E=2 experts: expert 0 has a tie between rows 1 and 2,
    // expert 1 a tie between all three rows.
    const float logits[] = {0.1f, 5.0f, 0.7f, 5.0f, 0.7f, 5.0f};  // (1,3,2)
    const float expect[] = {0, 1, 1, 0, 0, 0};
    float w[6];
    routing_ops_cpu.group_argmax_onehot(w, logits, 1, 3, 2);
    ck_assert_mem_eq(w, expect, sizeof w);
    // -inf padding rows never win.
    const float padded[] = {-2.0f, -INFINITY, -INFINITY};  // (1,3,1)
    routing_ops_cpu.group_argmax_onehot(w, padded, 1, 3, 1);
    ck_assert_float_eq(w[0], 1.0f);
    ck_assert_float_eq(w[1] + w[2], 0.0f);
}
END_TEST

// Output of token (b,t) after changing token (b2,t2) minus before, as max |diff|.
static double change_after_perturbing(FFHarness *h, const float *x, int b, int t, int b2,
                                      int t2) {
    size_t n = ffh_numel(h);
    int d = h->cfg.d, T = h->T;
    float *x2 = mallocCheck(n * sizeof(float)), *o1 = mallocCheck(n * sizeof(float)),
          *o2 = mallocCheck(n * sizeof(float));
    memcpy(x2, x, n * sizeof(float));
    for (int k = 0; k < d; k++) x2[(b2 * T + t2) * d + k] += 0.3f * (k % 3 - 1) + 0.2f;
    ffh_forward(h, x, o1);
    ffh_forward(h, x2, o2);
    double diff = 0;
    for (int k = 0; k < d; k++)
        diff = test_worse(diff, fabs(o1[(b * T + t) * d + k] - o2[(b * T + t) * d + k]));
    free(x2);
    free(o1);
    free(o2);
    return diff;
}

START_TEST(test_causal_and_mixing_within_group) {
    FFConfig c = ffh_config(FF_MOT);
    c.group_size = 2;
    FFHarness h;
    ffh_init(&h, &ff_mot_vtable, &c, 4, 3, 0.5f, 61);
    float *x = random_input(&h, 10);
    // Token (b=0, t=1): its group is batch rows {0,1} at position 1.
    for (int b2 = 0; b2 < 4; b2++)
        for (int t2 = 0; t2 < 3; t2++)
            if (t2 != 1) ck_assert_double_eq(change_after_perturbing(&h, x, 0, 1, b2, t2), 0.0);
    ck_assert_double_eq(change_after_perturbing(&h, x, 0, 1, 2, 1), 0.0);  // other group
    ck_assert_double_gt(change_after_perturbing(&h, x, 0, 1, 1, 1), 1e-4);  // same group
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_batch_not_multiple_of_group_is_an_error) {
    FFConfig c = ffh_config(FF_MOT);
    c.group_size = 4;
    ParamTable pt;
    param_table_init(&pt);
    ff_mot_vtable.declare(&c, "ff", &pt);
    char err[256] = "";
    void *state = ff_mot_vtable.create(&c, &ops_cpu, &pt, "ff", 6, 3, err, sizeof err);
    ck_assert_ptr_null(state);
    ck_assert_msg(strstr(err, "G=4 does not divide batch B=6") && strstr(err, "multiple of 4"),
                  "unhelpful message: %s", err);
    param_table_free(&pt);
}
END_TEST

// Eval-time padding: B=3 with G=2 gives groups {0,1} and {2, pad}. The pad row
// is ignored, so row 2 is a group of one and rows 0,1 are as without it.
START_TEST(test_padding_ignores_pad_rows) {
    FFConfig c = ffh_config(FF_MOT);
    c.group_size = 2;
    c.allow_pad = 1;
    FFHarness h;
    ffh_init(&h, &ff_mot_vtable, &c, 3, 2, 0.5f, 71);
    float *x = random_input(&h, 12);
    ck_assert_double_lt(mot_forward_error(&h, WEIGHTS_SOFTMAX, x), 1e-5);
    h.call.discrete = 1;
    ck_assert_double_lt(mot_forward_error(&h, WEIGHTS_ARGMAX, x), 1e-5);
    h.call.discrete = 0;
    GradCheck gc = ffh_gradcheck(&h, x, 5);
    gradcheck_assert(gc, "MoT padded");
    free(x);
    ffh_free(&h);
}
END_TEST

// Mean eval loss of cfg at batch (B,T) on the CPU; pad lets MoT blocks pad a batch
// that G does not divide (`suite eval --pad`). Parameters depend on the seed and
// tensor shapes only, so models differing in G alone hold the same weights.
static double eval_loss(const ModelConfig *cfg, int B, int T, int pad, const int *tokens,
                        const int *targets) {
    Model m;
    char err[256] = "";
    ck_assert_msg(!model_create(&m, cfg, &ops_cpu, PREC_FP32, 7, err, sizeof err), "%s", err);
    model_set_eval_padding(&m, pad);
    ck_assert_msg(!model_reserve(&m, B, T, err, sizeof err), "%s", err);
    double loss = model_eval_loss(&m, tokens, targets);
    model_free(&m);
    return loss;
}

// A padded eval (B=3 rows in one group of G=8: five pad rows) must give a finite
// loss equal to the same weights grouped without padding (G=3). Before
// fast_expf(-inf) returned 0 the pad rows' softmax weights were NaN on the CPU.
START_TEST(test_padded_model_eval_matches_unpadded_groups) {
    enum { B = 3, T = 8 };
    ModelConfig cfg;
    char err[256] = "";
    ck_assert_msg(!model_config_by_name("mot-tiny/8e", &cfg, err, sizeof err), "%s", err);
    ck_assert_int_eq(cfg.group_size, 8);
    int tokens[B * T], targets[B * T];
    uint64_t rng = 99;
    for (int i = 0; i < B * T; i++) {
        tokens[i] = (int)(test_rng_next(&rng) % (uint64_t)cfg.vocab_size);
        targets[i] = (int)(test_rng_next(&rng) % (uint64_t)cfg.vocab_size);
    }
    double padded = eval_loss(&cfg, B, T, 1, tokens, targets);
    cfg.group_size = B;
    double grouped = eval_loss(&cfg, B, T, 0, tokens, targets);
    ck_assert_msg(isfinite(padded), "padded eval loss is %g", padded);
    ck_assert_msg(fabs(padded - grouped) <= 1e-5 * fabs(grouped),
                  "padded eval loss %.7f, unpadded groups of %d %.7f", padded, B, grouped);
}
END_TEST

int main(void) {
    Suite *s = suite_create("mot");
    TCase *tc = tcase_create("mot");
    tcase_set_timeout(tc, 60);  // the whole-model eval builds two models with a 50257-way head
    tcase_add_test(tc, test_forward_matches_spec);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_group_of_one_is_dense_ff);
    tcase_add_test(tc, test_uniform_routing);
    tcase_add_test(tc, test_discrete_routing);
    tcase_add_test(tc, test_argmax_onehot_ties_go_to_lower_row);
    tcase_add_test(tc, test_causal_and_mixing_within_group);
    tcase_add_test(tc, test_batch_not_multiple_of_group_is_an_error);
    tcase_add_test(tc, test_padding_ignores_pad_rows);
    tcase_add_test(tc, test_padded_model_eval_matches_unpadded_groups);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
