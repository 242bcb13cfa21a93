// The dense Transformer end to end on the C path: parameter counts of SPEC §3,
// a finite-difference check of the whole model's gradient, and a loss that must
// fall when one batch is overfitted.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "impls/model.h"
#include "testutil.h"

static size_t count_of(const char *name) {
    ModelConfig c;
    char err[256];
    ck_assert_msg(model_config_by_name(name, &c, err, sizeof err) == 0, "%s", err);
    return model_param_count(&c);
}

// SPEC §3 totals (in millions, two decimals as printed by `suite params`).
START_TEST(test_param_counts_match_spec) {
    static const struct {
        const char *name;
        double millions;
    } table[] = {
        {"transformer-mini", 29.0},       {"transformer-medium", 76.80},   {"transformer-base", 162.41},
        {"mot-medium/8e", 135.5},          {"mot-medium/32e", 336.9},       {"mot-medium/32e/8", 337.4},
        {"mot-medium/32e/16", 337.9},      {"mot-medium/32e/32", 338.9},    {"mot-medium/128e", 1142.4},
        {"mot-base/32e", 1040.2},          {"mot-base/64e/16", 1955.5},     {"ec-medium/32e", 336.9},
        {"tc-medium/32e", 336.9},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        double got = count_of(table[i].name) / 1e6;
        // The SPEC rounds to 0.1M (0.01M for the dense models).
        double tol = table[i].millions < 200 && strncmp(table[i].name, "mot", 3) ? 0.005 : 0.05;
        if (!strcmp(table[i].name, "transformer-mini")) tol = 0.05;
        ck_assert_msg(fabs(got - table[i].millions) <= tol, "%s: %.3fM, SPEC says %.2fM", table[i].name, got,
                      table[i].millions);
    }
}
END_TEST

START_TEST(test_unknown_names_are_rejected) {
    const char *bad[] = {"transformer-huge", "mot-medium", "mot-medium/xe", "ec-medium/32e/4", "gpt-medium/8e",
                         "mot-medium/32e/7"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ModelConfig c;
        char err[256] = "";
        ck_assert_int_eq(model_config_by_name(bad[i], &c, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "error should name the model: %s", err);
    }
}
END_TEST

// A model small enough for finite differences: vocabulary 37, width 16.
static ModelConfig small_config(void) {
    ModelConfig c;
    memset(&c, 0, sizeof c);
    strcpy(c.name, "test-dense");
    c.vocab_size = 37;
    c.max_seq_len = 8;
    c.n_layers = 2;
    c.n_heads = 2;
    c.d_model = 16;
    c.d_ff = 32;
    c.moe_kind = FF_DENSE;
    c.moe_first_layer = 2;
    c.peak_lr = 1e-2f;
    return c;
}

static void random_batch(int *tokens, int *targets, int n, int vocab, uint64_t seed) {
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        tokens[i] = (int)(test_rng_next(&s) % (uint64_t)vocab);
        targets[i] = (int)(test_rng_next(&s) % (uint64_t)vocab);
    }
}

START_TEST(test_whole_model_gradient_matches_finite_differences) {
    ModelConfig c = small_config();
    Model m;
    char err[256];
    ck_assert_msg(model_create(&m, &c, &ops_cpu, PREC_FP32, 7, err, sizeof err) == 0, "%s", err);
    enum { B = 3, T = 5 };
    ck_assert_msg(model_reserve(&m, B, T, err, sizeof err) == 0, "%s", err);
    int tokens[B * T], targets[B * T];
    random_batch(tokens, targets, B * T, c.vocab_size, 11);
    targets[4] = -1;  // ignored positions contribute nothing
    model_zero_grad(&m);
    model_forward_backward(&m, tokens, targets, 1.0f, NULL);
    const float eps = 1e-2f;
    int checked = 0;
    for (int i = 0; i < m.table.count; i++) {
        const ParamInfo *p = &m.table.items[i];
        for (int k = 0; k < 3; k++) {  // three entries of every tensor
            size_t j = p->offset + (size_t)(k * 7919) % p->numel;
            float saved = m.params[j];
            m.params[j] = saved + eps;
            double up = model_eval_loss(&m, tokens, targets);
            m.params[j] = saved - eps;
            double down = model_eval_loss(&m, tokens, targets);
            m.params[j] = saved;
            double numeric = (up - down) / (2 * eps), analytic = m.grads[j];
            ck_assert_msg(fabs(numeric - analytic) <= 2e-2 * fmax(fabs(numeric), fabs(analytic)) + 2e-4,
                          "%s[%zu]: analytic %.6g vs numeric %.6g", p->name, j - p->offset, analytic, numeric);
            checked++;
        }
    }
    ck_assert_int_gt(checked, 40);
    model_free(&m);
}
END_TEST

START_TEST(test_overfitting_one_batch_halves_the_loss) {
    ModelConfig c = small_config();
    Model m;
    char err[256];
    ck_assert(model_create(&m, &c, &ops_cpu, PREC_FP32, 3, err, sizeof err) == 0);
    enum { B = 4, T = 8 };
    ck_assert(model_reserve(&m, B, T, err, sizeof err) == 0);
    int tokens[B * T], targets[B * T];
    random_batch(tokens, targets, B * T, c.vocab_size, 5);
    size_t n = m.table.total;
    float *am = ops_cpu.alloc(n * sizeof(float)), *av = ops_cpu.alloc(n * sizeof(float));
    double first = 0, last = 0;
    for (int step = 1; step <= 150; step++) {
        model_zero_grad(&m);
        last = model_forward_backward(&m, tokens, targets, 1.0f, NULL);
        if (step == 1) first = last;
        ops_cpu.adamw(m.params, m.grads, am, av, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, step, 1.0f, 0);
    }
    ck_assert_msg(last < 0.5 * first, "loss %.4f -> %.4f did not halve", first, last);
    ops_cpu.free(am);
    ops_cpu.free(av);
    model_free(&m);
}
END_TEST

START_TEST(test_sequence_longer_than_context_is_an_error) {
    ModelConfig c = small_config();
    Model m;
    char err[256] = "";
    ck_assert(model_create(&m, &c, &ops_cpu, PREC_FP32, 3, err, sizeof err) == 0);
    ck_assert_int_eq(model_reserve(&m, 2, 9, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "T <= 8") != NULL, "%s", err);
    model_free(&m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("dense");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_param_counts_match_spec);
    tcase_add_test(tc, test_unknown_names_are_rejected);
    tcase_add_test(tc, test_whole_model_gradient_matches_finite_differences);
    tcase_add_test(tc, test_overfitting_one_batch_halves_the_loss);
    tcase_add_test(tc, test_sequence_longer_than_context_is_an_error);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
