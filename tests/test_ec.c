// Expert Choice layer (impls/ff_ec.c) on the CPU: forward against a direct
// double-precision transcription of SPEC §2, finite-difference gradients, top-k
// selection and its tie-breaking, causality, the batch/group error.
#include "kernels/routing.h"
#include "tests/ff_harness.h"

enum { MAX_G = 16, MAX_E = 8, MAX_D = 16 };

// y (d) = ReLU(x (d) · lin1_e) · lin2_e, in double.
static void naive_expert(FFHarness *h, int e, const float *x, double *y) {
    int d = h->cfg.d, es = h->cfg.expert_size;
    const float *w1 = ffh_param(h, "lin1") + (size_t)e * d * es;  // (d,es)
    const float *w2 = ffh_param(h, "lin2") + (size_t)e * es * d;  // (es,d)
    for (int o = 0; o < d; o++) y[o] = 0;
    for (int j = 0; j < es; j++) {
        double a = 0;
        for (int i = 0; i < d; i++) a += (double)x[i] * w1[i * es + j];
        for (int o = 0; a > 0 && o < d; o++) y[o] += a * w2[j * d + o];
    }
}

// One group of G same-position tokens (rows index x/out (B,T,d) rows): router
// softmax over experts, each expert's top-k rows (ties: lower row), gated sum,
// LayerNorm. *unchosen counts rows no expert took.
static void naive_group(FFHarness *h, const float *x, const int *rows, double *out,
                        int *unchosen) {
    int d = h->cfg.d, E = h->cfg.n_experts, G = h->cfg.group_size, k = h->cfg.topk;
    const float *wr = ffh_param(h, "router");  // (d,E)
    const float *lnw = ffh_param(h, "ln.weight"), *lnb = ffh_param(h, "ln.bias");
    double p[MAX_G][MAX_E], combined[MAX_G][MAX_D] = {{0}}, y[MAX_D];
    int chosen[MAX_G] = {0};
    for (int i = 0; i < G; i++) {
        double sum = 0, logit[MAX_E], mx = -INFINITY;
        for (int e = 0; e < E; e++) {
            logit[e] = 0;
            for (int c = 0; c < d; c++) logit[e] += (double)x[rows[i] * d + c] * wr[c * E + e];
            mx = fmax(mx, logit[e]);
        }
        for (int e = 0; e < E; e++) sum += (p[i][e] = exp(logit[e] - mx));
        for (int e = 0; e < E; e++) p[i][e] /= sum;
    }
    for (int e = 0; e < E; e++) {
        int taken[MAX_G] = {0};
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < G; i++)
                if (!taken[i] && (best < 0 || p[i][e] > p[best][e])) best = i;
            taken[best] = chosen[best] = 1;
            naive_expert(h, e, x + rows[best] * d, y);
            for (int c = 0; c < d; c++) combined[best][c] += p[best][e] * y[c];
        }
    }
    for (int i = 0; i < G; i++) {
        double mean = 0, var = 0;
        for (int c = 0; c < d; c++) mean += combined[i][c] / d;
        for (int c = 0; c < d; c++) var += (combined[i][c] - mean) * (combined[i][c] - mean) / d;
        for (int c = 0; c < d; c++)
            out[i * d + c] = (combined[i][c] - mean) / sqrt(var + 1e-5) * lnw[c] + lnb[c];
        *unchosen += !chosen[i];
    }
}

static float *random_input(const FFHarness *h, uint64_t seed) {
    float *x = mallocCheck(ffh_numel(h) * sizeof(float));
    test_fill_uniform(x, ffh_numel(h), 1.0f, seed);
    return x;
}

static FFConfig ec_config(int G, int k) {
    FFConfig c = ffh_config(FF_EC);
    c.group_size = G;
    c.topk = k;
    return c;
}

START_TEST(test_forward_matches_spec) {
    const int groups[][2] = {{2, 1}, {4, 2}};  // (G, k)
    for (int v = 0; v < 2; v++) {
        FFConfig c = ec_config(groups[v][0], groups[v][1]);
        FFHarness h;
        ffh_init(&h, &ff_ec_vtable, &c, 4, 3, 0.5f, 101 + v);
        float *x = random_input(&h, 3), *out = mallocCheck(ffh_numel(&h) * sizeof(float));
        ffh_forward(&h, x, out);
        int G = c.group_size, d = c.d, T = h.T, unchosen = 0;
        double worst = 0;
        for (int t = 0; t < T; t++)
            for (int b0 = 0; b0 < h.B; b0 += G) {
                int rows[MAX_G];
                double ref[MAX_G * MAX_D];
                for (int i = 0; i < G; i++) rows[i] = (b0 + i) * T + t;
                naive_group(&h, x, rows, ref, &unchosen);
                for (int i = 0; i < G; i++)
                    for (int k = 0; k < d; k++)
                        worst = fmax(worst, fabs(out[rows[i] * d + k] - ref[i * d + k]));
            }
        ck_assert_msg(worst < 1e-4, "G=%d k=%d: forward off by %g", G, c.topk, worst);
        FFStats st = {0};
        h.vt->stats(h.state, &ops_cpu, &h.cfg, &st);
        ck_assert_double_eq_tol(st.dropped_fraction, (double)unchosen / (h.B * T), 1e-12);
        ck_assert(st.router_entropy > 0 && st.router_entropy <= 1);
        free(out);
        free(x);
        ffh_free(&h);
    }
}
END_TEST

START_TEST(test_gradients) {
    const int groups[][2] = {{2, 1}, {4, 2}};
    for (int v = 0; v < 2; v++) {
        FFConfig c = ec_config(groups[v][0], groups[v][1]);
        FFHarness h;
        ffh_init(&h, &ff_ec_vtable, &c, 4, 3, 0.5f, 111 + v);
        float *x = random_input(&h, 4);
        GradCheck gc = ffh_gradcheck(&h, x, 9);
        gradcheck_assert(gc, v == 0 ? "EC G=2 k=1" : "EC G=4 k=2");
        free(x);
        ffh_free(&h);
    }
}
END_TEST

START_TEST(test_topk_order_and_ties) {
    // M=2 groups of G=4 rows, E=2 experts, k=2. probs (2,4,2).
    const float probs[] = {
        0.2f, 0.8f,  0.6f, 0.4f,  0.6f, 0.4f,  0.9f, 0.1f,  // group 0
        0.5f, 0.5f,  0.5f, 0.5f,  0.5f, 0.5f,  0.5f, 0.5f,  // group 1: all tied
    };
    int tok[8];
    float gate[8];
    routing_ops_cpu.ec_topk(tok, gate, probs, 2, 4, 2, 2);
    // slots (E,M,k): expert 0 group 0 takes row 3 (0.9) then row 1 (0.6, tied with
    // row 2: lower row); group 1 rows 4,5. Expert 1: rows 0 (0.8), 1 (0.4 tie); 4, 5.
    const int expect_tok[] = {3, 1, 4, 5, 0, 1, 4, 5};
    const float expect_gate[] = {0.9f, 0.6f, 0.5f, 0.5f, 0.8f, 0.4f, 0.5f, 0.5f};
    ck_assert_mem_eq(tok, expect_tok, sizeof tok);
    ck_assert_mem_eq(gate, expect_gate, sizeof gate);
}
END_TEST

// A zero router makes every probability 1/E: all experts tie on every row, so each
// takes the first k rows of every group; the other rows get no expert, and the
// LayerNorm of their zero update is exactly its bias.
START_TEST(test_equal_probabilities_pick_lower_rows) {
    FFConfig c = ec_config(4, 1);
    FFHarness h;
    ffh_init(&h, &ff_ec_vtable, &c, 4, 2, 0.5f, 121);
    memset(ffh_param(&h, "router"), 0, (size_t)c.d * c.n_experts * sizeof(float));
    float *x = random_input(&h, 5), *out = mallocCheck(ffh_numel(&h) * sizeof(float));
    ffh_forward(&h, x, out);
    const float *bias = ffh_param(&h, "ln.bias");
    int d = c.d, T = h.T;
    for (int b = 1; b < 4; b++)
        for (int t = 0; t < T; t++)
            ck_assert_mem_eq(out + (b * T + t) * d, bias, d * sizeof(float));
    for (int t = 0; t < T; t++)  // row 0 got all experts: not the bare bias
        ck_assert(memcmp(out + t * d, bias, d * sizeof(float)) != 0);
    FFStats st = {0};
    h.vt->stats(h.state, &ops_cpu, &h.cfg, &st);
    ck_assert_double_eq(st.dropped_fraction, 0.75);
    free(out);
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_causal) {
    FFConfig c = ec_config(2, 1);
    FFHarness h;
    ffh_init(&h, &ff_ec_vtable, &c, 4, 3, 0.5f, 131);
    size_t n = ffh_numel(&h);
    int d = c.d, T = h.T;
    float *x = random_input(&h, 6), *x2 = mallocCheck(n * sizeof(float));
    float *o1 = mallocCheck(n * sizeof(float)), *o2 = mallocCheck(n * sizeof(float));
    ffh_forward(&h, x, o1);
    // Change every token at positions other than t=1: no output at t=1 may move.
    memcpy(x2, x, n * sizeof(float));
    for (int b = 0; b < h.B; b++)
        for (int t = 0; t < T; t++)
            for (int k = 0; t != 1 && k < d; k++) x2[(b * T + t) * d + k] = -x[(b * T + t) * d + k];
    ffh_forward(&h, x2, o2);
    for (int b = 0; b < h.B; b++)
        ck_assert_mem_eq(o1 + (b * T + 1) * d, o2 + (b * T + 1) * d, d * sizeof(float));
    free(o1);
    free(o2);
    free(x2);
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_batch_not_multiple_of_group_is_an_error) {
    FFConfig c = ec_config(4, 1);
    ParamTable pt;
    param_table_init(&pt);
    ff_ec_vtable.declare(&c, "ff", &pt);
    char err[256] = "";
    ck_assert_ptr_null(ff_ec_vtable.create(&c, &ops_cpu, &pt, "ff", 6, 3, err, sizeof err));
    ck_assert_msg(strstr(err, "G=4 does not divide batch B=6") && strstr(err, "multiple of 4"),
                  "unhelpful message: %s", err);
    c.topk = 5;  // more tokens per group than the group has
    ck_assert_ptr_null(ff_ec_vtable.create(&c, &ops_cpu, &pt, "ff", 8, 3, err, sizeof err));
    ck_assert_msg(strstr(err, "top-k=5"), "unhelpful message: %s", err);
    param_table_free(&pt);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ec");
    TCase *tc = tcase_create("ec");
    tcase_add_test(tc, test_forward_matches_spec);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_topk_order_and_ties);
    tcase_add_test(tc, test_equal_probabilities_pick_lower_rows);
    tcase_add_test(tc, test_causal);
    tcase_add_test(tc, test_batch_not_multiple_of_group_is_an_error);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
