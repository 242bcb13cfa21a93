// Token Choice (Switch) layer (impls/ff_tc.c) on the CPU: forward, drops, load
// statistics and the load-balancing loss against a direct double-precision
// transcription of SPEC §2, finite-difference gradients (aux loss included),
// routing ties, causality.
#include "kernels/routing.h"
#include "tests/ff_harness.h"

enum { MAX_N = 64, MAX_E = 8, MAX_D = 16 };

typedef struct {
    double probs[MAX_N][MAX_E];
    int expert[MAX_N];  // top-1
    int kept[MAX_N];    // within capacity
    int counts[MAX_E];  // before dropping
    int dropped;
    double aux;
} NaiveRouting;

static void naive_routing(FFHarness *h, const float *x, NaiveRouting *r) {
    int N = h->B * h->T, d = h->cfg.d, E = h->cfg.n_experts;
    int C = (int)floor((double)h->cfg.capacity_factor * N / E);
    const float *wr = ffh_param(h, "router");  // (d,E)
    memset(r, 0, sizeof *r);
    for (int n = 0; n < N; n++) {  // flattened b*T+t order
        double logit[MAX_E], mx = -INFINITY, sum = 0;
        for (int e = 0; e < E; e++) {
            logit[e] = 0;
            for (int c = 0; c < d; c++) logit[e] += (double)x[n * d + c] * wr[c * E + e];
            mx = fmax(mx, logit[e]);
        }
        for (int e = 0; e < E; e++) sum += (r->probs[n][e] = exp(logit[e] - mx));
        int best = 0;
        for (int e = 0; e < E; e++) {
            r->probs[n][e] /= sum;
            if (r->probs[n][e] > r->probs[n][best]) best = e;
        }
        r->expert[n] = best;
        r->kept[n] = r->counts[best]++ < C;
        r->dropped += !r->kept[n];
    }
    for (int e = 0; e < E; e++) {
        double mean_p = 0;
        for (int n = 0; n < N; n++) mean_p += r->probs[n][e] / N;
        r->aux += E * mean_p * r->counts[e] / N;
    }
}

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

// A layer whose router strongly prefers expert 0 (x[:,0] is shifted up and the
// router reads it), so that expert overflows and tokens are dropped.
static float *skewed_setup(FFHarness *h, const FFConfig *c, uint64_t seed) {
    ffh_init(h, &ff_tc_vtable, c, 4, 3, 0.5f, seed);
    float *x = mallocCheck(ffh_numel(h) * sizeof(float));
    test_fill_uniform(x, ffh_numel(h), 1.0f, seed + 1);
    for (int n = 0; n < h->B * h->T; n++) x[n * c->d] += 1.0f;
    ffh_param(h, "router")[0] = 1.5f;  // router (d,E) entry (0,0)
    return x;
}

START_TEST(test_forward_drops_and_stats) {
    FFConfig c = ffh_config(FF_TC);
    c.capacity_factor = 1.0f;  // N=12, E=4: capacity 3
    FFHarness h;
    float *x = skewed_setup(&h, &c, 201), *out = mallocCheck(ffh_numel(&h) * sizeof(float));
    ffh_forward(&h, x, out);
    NaiveRouting r;
    naive_routing(&h, x, &r);
    int N = h.B * h.T, d = c.d;
    ck_assert_msg(r.dropped > 0 && r.dropped < N, "setup should drop some tokens, drops %d",
                  r.dropped);
    const float zeros[MAX_D] = {0};
    double worst = 0, y[MAX_D];
    for (int n = 0; n < N; n++) {
        if (!r.kept[n]) {  // past capacity: exactly no update
            ck_assert_mem_eq(out + n * d, zeros, d * sizeof(float));
            continue;
        }
        naive_expert(&h, r.expert[n], x + n * d, y);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(out[n * d + k] - r.probs[n][r.expert[n]] * y[k]));
    }
    ck_assert_msg(worst < 1e-5, "kept tokens off by %g", worst);
    FFStats st = {0};
    h.vt->stats(h.state, &ops_cpu, &h.cfg, &st);
    int max_count = 0;
    for (int e = 0; e < c.n_experts; e++)
        if (r.counts[e] > max_count) max_count = r.counts[e];
    ck_assert_double_eq_tol(st.dropped_fraction, (double)r.dropped / N, 1e-12);
    ck_assert_double_eq_tol(st.load_max_over_mean, (double)max_count * c.n_experts / N, 1e-12);
    ck_assert_double_eq_tol(st.aux_loss, r.aux, 1e-6);
    ck_assert_double_eq_tol(h.vt->aux_loss(h.state, &ops_cpu), r.aux, 1e-6);
    free(out);
    free(x);
    ffh_free(&h);
}
END_TEST

// Four tokens, two experts, d=2: router (d,E) = [[1,0],[0,0]] gives logits
// (a_n, 0), so p(expert 0) = 3/4 for a_n = ln 3 and 1/4 for a_n = -ln 3.
// With a = (ln3, ln3, -ln3, ln3): n = (3, 1), mean p = (0.625, 0.375),
// aux = 2 * (0.625 * 3/4 + 0.375 * 1/4) = 1.125.
START_TEST(test_aux_loss_by_hand) {
    FFConfig c = ffh_config(FF_TC);
    c.d = 2;
    c.n_experts = 2;
    c.expert_size = 1;
    FFHarness h;
    ffh_init(&h, &ff_tc_vtable, &c, 1, 4, 0.5f, 211);
    const float router[] = {1, 0, 0, 0};
    memcpy(ffh_param(&h, "router"), router, sizeof router);
    float l3 = logf(3.0f);
    const float x[] = {l3, 0, l3, 0, -l3, 0, l3, 0};  // (1,4,2)
    float out[8];
    ffh_forward(&h, x, out);
    ck_assert_double_eq_tol(h.vt->aux_loss(h.state, &ops_cpu), 1.125, 1e-6);
    ffh_free(&h);
}
END_TEST

START_TEST(test_gradients_with_drops_and_aux) {
    FFConfig c = ffh_config(FF_TC);
    c.capacity_factor = 1.0f;
    c.aux_weight = 0.5f;
    FFHarness h;
    float *x = skewed_setup(&h, &c, 221);
    GradCheck gc = ffh_gradcheck(&h, x, 13);
    gradcheck_assert(gc, "TC with drops and aux loss");
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_route_ties_and_capacity_order) {
    // N=5 tokens, E=3 experts, capacity 2. Token 1 ties experts 0 and 2 -> 0;
    // token 4 ties all three -> 0. Expert 0 gets tokens 0,1,3,4: 3 and 4 dropped.
    const float probs[] = {
        0.5f, 0.2f, 0.3f,  0.4f, 0.2f, 0.4f,  0.1f, 0.8f, 0.1f,
        0.6f, 0.2f, 0.2f,  1.f / 3, 1.f / 3, 1.f / 3,
    };
    int tok[6], counts[3];
    float gate[6];
    routing_ops_cpu.tc_route(tok, gate, counts, probs, 5, 3, 2);
    const int expect_tok[] = {0, 1, 2, -1, -1, -1};  // slots (E,C)
    const float expect_gate[] = {0.5f, 0.4f, 0.8f, 0, 0, 0};
    const int expect_counts[] = {4, 1, 0};
    ck_assert_mem_eq(tok, expect_tok, sizeof tok);
    ck_assert_mem_eq(gate, expect_gate, sizeof gate);
    ck_assert_mem_eq(counts, expect_counts, sizeof counts);
}
END_TEST

// Max |change| of token n's output when token m's input changes.
static double change_after_perturbing(FFHarness *h, const float *x, int n, int m) {
    size_t numel = ffh_numel(h);
    int d = h->cfg.d;
    float *x2 = mallocCheck(numel * sizeof(float)), *o1 = mallocCheck(numel * sizeof(float)),
          *o2 = mallocCheck(numel * sizeof(float));
    memcpy(x2, x, numel * sizeof(float));
    for (int k = 0; k < d; k++) x2[m * d + k] = -x[m * d + k];
    ffh_forward(h, x, o1);
    ffh_forward(h, x2, o2);
    double diff = 0;
    for (int k = 0; k < d; k++) diff = fmax(diff, fabs(o1[n * d + k] - o2[n * d + k]));
    free(x2);
    free(o1);
    free(o2);
    return diff;
}

START_TEST(test_causal) {
    // Without drops every token is processed alone: nothing else can move it.
    FFConfig c = ffh_config(FF_TC);
    c.capacity_factor = (float)c.n_experts;  // capacity N
    FFHarness h;
    float *x = skewed_setup(&h, &c, 231);
    int N = h.B * h.T;
    for (int n = 0; n < N; n++)
        for (int m = 0; m < N; m++)
            if (m != n) ck_assert_double_eq(change_after_perturbing(&h, x, n, m), 0.0);
    free(x);
    ffh_free(&h);
    // With drops a token's fate depends on earlier tokens (flattened order) only:
    // changing a later token never changes it, whatever position it is at.
    c.capacity_factor = 1.0f;
    x = skewed_setup(&h, &c, 241);
    for (int n = 0; n < N; n++)
        for (int m = n + 1; m < N; m++)
            ck_assert_double_eq(change_after_perturbing(&h, x, n, m), 0.0);
    free(x);
    ffh_free(&h);
}
END_TEST

START_TEST(test_zero_capacity_is_an_error) {
    FFConfig c = ffh_config(FF_TC);
    c.n_experts = 32;
    ParamTable pt;
    param_table_init(&pt);
    ff_tc_vtable.declare(&c, "ff", &pt);
    char err[256] = "";
    ck_assert_ptr_null(ff_tc_vtable.create(&c, &ops_cpu, &pt, "ff", 2, 3, err, sizeof err));
    ck_assert_msg(strstr(err, "capacity") && strstr(err, "is 0"), "unhelpful message: %s", err);
    param_table_free(&pt);
}
END_TEST

int main(void) {
    Suite *s = suite_create("tc");
    TCase *tc = tcase_create("tc");
    tcase_add_test(tc, test_forward_drops_and_stats);
    tcase_add_test(tc, test_aux_loss_by_hand);
    tcase_add_test(tc, test_gradients_with_drops_and_aux);
    tcase_add_test(tc, test_route_ties_and_capacity_order);
    tcase_add_test(tc, test_causal);
    tcase_add_test(tc, test_zero_capacity_is_an_error);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
