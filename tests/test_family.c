// What a model family is (impls/family.c and each FFVTable), what each precision
// mode means (kernels/precision.h), and that a built model's FF configs never change.
#include <stdio.h>
#include <string.h>

#include "impls/model.h"
#include "kernels/common.h"
#include "kernels/ops_cpu.h"
#include "tests/testutil.h"

START_TEST(family_table_is_consistent) {
    for (int k = 0; k < N_FF_KINDS; k++) {
        const FFVTable *f = ff_vtable((FFKind)k);
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(f->kind, k);
        ck_assert_ptr_eq(ff_family_by_name(f->family, strlen(f->family)), f);
        ck_assert_ptr_eq(ff_family_by_prefix(f->name_prefix, strlen(f->name_prefix)), f);
        ck_assert(f->declare && f->create && f->destroy && f->forward && f->backward);
        // A transition target must declare the same tensors (checked by
        // model_convert_family); here: it exists and is another family.
        if (f->converts_to >= 0) {
            ck_assert_ptr_nonnull(ff_vtable((FFKind)f->converts_to));
            ck_assert_int_ne(f->converts_to, k);
        }
    }
    ck_assert_ptr_null(ff_vtable((FFKind)N_FF_KINDS));
    ck_assert_ptr_null(ff_vtable((FFKind)-1));
    ck_assert_ptr_null(ff_family_by_name("moe", 3));
    ck_assert_ptr_eq(ff_family_by_name("motx", 3), ff_vtable(FF_MOT));  // n bytes only
    ck_assert_ptr_null(ff_family_by_name("mo", 2));
    char list[64];
    ff_family_list(list, sizeof list, 0);
    ck_assert_str_eq(list, "dense, mot, ec or tc");
    ff_family_list(list, sizeof list, 1);
    ck_assert_str_eq(list, "transformer, mot, ec or tc");
}
END_TEST

// Registry names resolve through the table; batch questions follow the family.
START_TEST(family_answers_per_model) {
    static const struct {
        const char *name;
        FFKind kind;
        int batch_multiple, rows_independent, transition;
    } cases[] = {
        {"transformer-tiny", FF_DENSE, 1, 1, -1},
        {"mot-tiny/8e", FF_MOT, 8, 0, FF_TC},
        {"ec-tiny/32e", FF_EC, 32, 0, -1},
        {"tc-tiny/32e", FF_TC, 1, 0, -1},
    };
    char err[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ModelConfig c;
        ck_assert_msg(!model_config_by_name(cases[i].name, &c, err, sizeof err), "%s", err);
        ck_assert_int_eq(c.moe_kind, cases[i].kind);
        ck_assert_int_eq(model_batch_multiple(&c), cases[i].batch_multiple);
        ck_assert_int_eq(model_rows_independent(&c), cases[i].rows_independent);
        ck_assert_int_eq(model_transition_target(&c), cases[i].transition);
    }
    ModelConfig c;
    ck_assert_int_eq(model_config_by_name("moe-tiny/8e", &c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "family must be transformer, mot, ec or tc"), "%s", err);
}
END_TEST

// The routing term of the FLOP count comes from the family: MoT pays controller,
// merge and emit (3 E d per token), EC/TC a router (E d), dense nothing.
START_TEST(flops_follow_the_family) {
    char err[256];
    ModelConfig dense, mot, tc;
    ck_assert(!model_config_by_name("transformer-tiny", &dense, err, sizeof err));
    ck_assert(!model_config_by_name("mot-tiny/8e", &mot, err, sizeof err));
    ck_assert(!model_config_by_name("tc-tiny/32e", &tc, err, sizeof err));
    int T = 64;
    double moe_layers = mot.n_layers - mot.moe_first_layer, d = mot.d_model;
    double base = model_flops_per_token(&dense, T);
    ck_assert_double_eq_tol(model_flops_per_token(&mot, T) - base,
                            6.0 * moe_layers * 3.0 * mot.n_experts * d, 1e-6 * base);
    ck_assert_double_eq_tol(model_flops_per_token(&tc, T) - base,
                            6.0 * moe_layers * 1.0 * tc.n_experts * d, 1e-6 * base);
}
END_TEST

START_TEST(precision_questions) {
    ck_assert(!precision_bf16_products(PREC_FP32));
    ck_assert(precision_bf16_products(PREC_MIXED));
    ck_assert(precision_bf16_products(PREC_BF16));
    ck_assert(!precision_bf16_router(PREC_FP32));
    ck_assert(!precision_bf16_router(PREC_MIXED));  // SPEC §4: fp32 routers under mixed
    ck_assert(precision_bf16_router(PREC_BF16));
    ck_assert(!precision_bf16_state(PREC_FP32));
    ck_assert(!precision_bf16_state(PREC_MIXED));
    ck_assert(precision_bf16_state(PREC_BF16));
    for (int p = PREC_FP32; p <= PREC_BF16; p++) {
        Precision back;
        ck_assert_int_eq(precision_parse(precision_name((Precision)p), &back), 0);
        ck_assert_int_eq(back, p);
    }
    Precision unused;
    ck_assert_int_eq(precision_parse("fp16", &unused), -1);
}
END_TEST

enum { B = 4, T = 16 };  // N = 64 tokens: TC capacity floor(1.25*64/32) = 2

static void random_batch(const ModelConfig *c, int *tokens, int *targets) {
    uint64_t rng = 5;
    for (int i = 0; i < B * T; i++) {
        tokens[i] = (int)(test_rng_next(&rng) % (uint64_t)c->vocab_size);
        targets[i] = (int)(test_rng_next(&rng) % (uint64_t)c->vocab_size);
    }
}

// Gradients of one step at grad_scale, copied to grads.
static void step_grads(Model *m, const int *tokens, const int *targets, float grad_scale,
                       float *grads) {
    model_zero_grad(m);
    model_forward_backward(m, tokens, targets, grad_scale, NULL);
    memcpy(grads, m->grads, m->table.total * sizeof(float));
}

// Training, discrete eval and a scaled step leave every layer's FFConfig as built;
// the aux-loss gradient still follows grad_scale (a power of two scales exactly).
START_TEST(ff_configs_are_fixed_once_built) {
    char err[256];
    ModelConfig c;
    ck_assert(!model_config_by_name("tc-tiny/32e", &c, err, sizeof err));
    c.aux_alpha = 0.5f;  // large, so the aux gradient is a visible part of the step
    Model m;
    ck_assert_msg(!model_create(&m, &c, &ops_cpu, PREC_FP32, 3, err, sizeof err), "%s", err);
    ck_assert_msg(!model_reserve(&m, B, T, err, sizeof err), "%s", err);
    FFConfig built[MODEL_MAX_LAYERS];
    for (int l = 0; l < c.n_layers; l++) built[l] = m.ff[l].cfg;

    int tokens[B * T], targets[B * T];
    random_batch(&c, tokens, targets);
    float *full = mallocCheck(m.table.total * sizeof(float));
    float *half = mallocCheck(m.table.total * sizeof(float));
    step_grads(&m, tokens, targets, 1.0f, full);
    step_grads(&m, tokens, targets, 0.5f, half);
    m.discrete_eval = 1;
    model_eval_loss(&m, tokens, targets);
    for (int l = 0; l < c.n_layers; l++)
        ck_assert_msg(!memcmp(&built[l], &m.ff[l].cfg, sizeof built[l]),
                      "layer %d's FFConfig changed after training and eval steps", l);
    size_t router = param_offset(&m.table, "blocks.3.ff.router");
    for (size_t i = 0; i < m.table.total; i++)
        ck_assert_msg(half[i] == 0.5f * full[i], "gradient %zu: %g at grad_scale 0.5, %g at 1",
                      i, half[i], full[i]);
    ck_assert_float_ne(full[router], 0.0f);
    free(full);
    free(half);
    model_free(&m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("family");
    TCase *tc = tcase_create("family");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, family_table_is_consistent);
    tcase_add_test(tc, family_answers_per_model);
    tcase_add_test(tc, flops_follow_the_family);
    tcase_add_test(tc, precision_questions);
    tcase_add_test(tc, ff_configs_are_fixed_once_built);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
