// Whole GPTs with routed FF layers (MoT, EC, TC) on the CPU: gradients of sampled
// parameters through the full network by finite differences, and a few dozen
// AdamW steps on one fixed batch that must memorise it.
#include <string.h>

#include "impls/model.h"
#include "kernels/common.h"
#include "tests/gradcheck.h"

enum { BATCH = 4, SEQ = 8 };

// A registry model shrunk to a size where a whole step takes milliseconds; the
// family fields (routing kind, placement in the later half) come from the registry.
static ModelConfig tiny_config(const char *registry_name) {
    ModelConfig c;
    char err[256] = "";
    ck_assert_msg(model_config_by_name(registry_name, &c, err, sizeof err) == 0, "%s", err);
    c.vocab_size = 61;
    c.max_seq_len = SEQ;
    c.n_layers = 2;
    c.moe_first_layer = 1;
    c.n_heads = 2;
    c.d_model = 16;
    c.d_ff = 32;
    c.n_experts = 4;
    switch (c.moe_kind) {
    case FF_MOT:
        c.group_size = 2;
        c.expert_size = c.d_ff * c.group_size / c.n_experts;
        break;
    case FF_EC:
        c.group_size = 4;
        c.topk = 1;
        c.expert_size = c.d_ff;
        break;
    case FF_TC:
        c.expert_size = c.d_ff;
        c.aux_alpha = 0.1f;  // large enough that its gradient shows in the check
        break;
    case FF_DENSE: ck_abort_msg("%s is not a routed model", registry_name);
    }
    return c;
}

static Model *tiny_model(const char *registry_name, Precision prec, int *tokens, int *targets) {
    ModelConfig c = tiny_config(registry_name);
    Model *m = callocCheck(1, sizeof(Model));
    char err[256] = "";
    ck_assert_msg(model_create(m, &c, &ops_cpu, prec, 1234, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(model_reserve(m, BATCH, SEQ, err, sizeof err) == 0, "%s", err);
    uint64_t s = 99;
    for (int i = 0; i < BATCH * SEQ; i++) {
        tokens[i] = (int)(test_rng_next(&s) % (uint64_t)c.vocab_size);
        targets[i] = (int)(test_rng_next(&s) % (uint64_t)c.vocab_size);
    }
    return m;
}

typedef struct {
    Model *m;
    const int *tokens, *targets;
} ModelLossCtx;

// Cross-entropy plus the weighted aux loss: the total that backward differentiates.
static double model_total_loss(void *ctx) {
    ModelLossCtx *c = ctx;
    double aux = 0;
    double loss = model_forward_backward(c->m, c->tokens, c->targets, 1.0f, &aux);
    return loss + aux;
}

// Indices (into the tensor) of its `n` largest-|gradient| entries: a wrong gradient
// there is not hidden by the tolerance. A tensor with an all-zero analytic gradient
// still gets checked, and fails if its true gradient is not zero.
static void largest_entries(const float *g, size_t numel, int n, size_t *idx) {
    for (int k = 0; k < n; k++) {
        size_t best = 0;
        double best_val = -1;
        for (size_t i = 0; i < numel; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= idx[j] == i;
            if (!taken && fabs(g[i]) > best_val) best_val = fabs(g[i]), best = i;
        }
        idx[k] = best;
    }
}

static void check_model_gradients(const char *registry_name) {
    int tokens[BATCH * SEQ], targets[BATCH * SEQ];
    Model *m = tiny_model(registry_name, PREC_FP32, tokens, targets);
    ModelLossCtx ctx = {m, tokens, targets};
    model_zero_grad(m);
    double f0 = model_total_loss(&ctx);
    size_t P = m->table.total;
    float *grads = mallocCheck(P * sizeof(float));
    ops_cpu.to_host(grads, m->grads, P * sizeof(float));

    // fp32 differences through a whole network (and EC's output LayerNorm of small
    // updates) resolve gradients to about 1%; layer tests check tighter.
    FDCheck fd = {.loss = model_total_loss, .ctx = &ctx, .step = 1e-3f, .abs_tol = 2e-4,
                  .rel_tol = 3e-2};
    GradCheck gc = {0};
    const char *dense_tensors[] = {"tok_emb.weight", "blocks.0.ff.lin1.weight",
                                   "blocks.1.attn.qkv.weight", "head.weight"};
    for (int i = 0; i < m->table.count; i++) {
        const ParamInfo *p = &m->table.items[i];
        int routed = strncmp(p->name, "blocks.1.ff.", 12) == 0, dense = 0;
        for (size_t j = 0; j < sizeof dense_tensors / sizeof dense_tensors[0]; j++)
            dense |= !strcmp(p->name, dense_tensors[j]);
        if (!routed && !dense) continue;
        size_t idx[6];
        largest_entries(grads + p->offset, p->numel, 6, idx);
        for (int k = 0; k < 6; k++)
            gradcheck_coord(&fd, m->params + p->offset + idx[k], grads[p->offset + idx[k]], f0,
                            &gc);
    }
    gradcheck_assert(gc, registry_name);
    free(grads);
    model_free(m);
    free(m);
}

START_TEST(test_mot_model_gradients) { check_model_gradients("mot-tiny/8e"); }
END_TEST
START_TEST(test_ec_model_gradients) { check_model_gradients("ec-tiny/32e"); }
END_TEST
START_TEST(test_tc_model_gradients) { check_model_gradients("tc-tiny/32e"); }
END_TEST

// Mixed precision (bf16 GEMM operands), plain AdamW, one fixed batch.
static void check_memorises_batch(const char *registry_name) {
    int tokens[BATCH * SEQ], targets[BATCH * SEQ];
    Model *m = tiny_model(registry_name, PREC_MIXED, tokens, targets);
    size_t bytes = m->table.total * sizeof(float);
    float *adam_m = ops_cpu.alloc(bytes), *adam_v = ops_cpu.alloc(bytes);
    double first = 0, last = 0;
    const int steps = 40;
    for (int step = 1; step <= steps; step++) {
        model_zero_grad(m);
        double loss = model_forward_backward(m, tokens, targets, 1.0f, NULL);
        if (step == 1) first = loss;
        last = loss;
        ops_cpu.adamw(m->params, m->grads, adam_m, adam_v, m->table.total, 1e-2f, 0.9f,
                      0.999f, 1e-8f, 0.0f, step, 1.0f, 0);
    }
    printf("%s: loss %.3f -> %.3f in %d steps\n", registry_name, first, last, steps);
    ck_assert_msg(last < 0.5 * first, "%s: loss only fell from %.3f to %.3f", registry_name,
                  first, last);
    ops_cpu.free(adam_m);
    ops_cpu.free(adam_v);
    model_free(m);
    free(m);
}

START_TEST(test_mot_model_learns) { check_memorises_batch("mot-tiny/8e"); }
END_TEST
START_TEST(test_ec_model_learns) { check_memorises_batch("ec-tiny/32e"); }
END_TEST
START_TEST(test_tc_model_learns) { check_memorises_batch("tc-tiny/32e"); }
END_TEST

START_TEST(test_batch_not_multiple_of_group_is_an_error) {
    ModelConfig c = tiny_config("mot-tiny/8e");
    c.group_size = 4;
    c.expert_size = c.d_ff * c.group_size / c.n_experts;
    Model m;
    char err[256] = "";
    ck_assert_int_eq(model_create(&m, &c, &ops_cpu, PREC_FP32, 1, err, sizeof err), 0);
    ck_assert_int_eq(model_reserve(&m, 6, SEQ, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "G=4 does not divide batch B=6"), "unhelpful message: %s", err);
    model_free(&m);
}
END_TEST

int main(void) {
    Suite *s = suite_create("moe_model");
    TCase *tc = tcase_create("moe_model");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mot_model_gradients);
    tcase_add_test(tc, test_ec_model_gradients);
    tcase_add_test(tc, test_tc_model_gradients);
    tcase_add_test(tc, test_mot_model_learns);
    tcase_add_test(tc, test_ec_model_learns);
    tcase_add_test(tc, test_tc_model_learns);
    tcase_add_test(tc, test_batch_not_multiple_of_group_is_an_error);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
