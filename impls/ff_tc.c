// Token Choice / Switch (SPEC §2): every token picks its top-1 expert by router
// softmax over experts; an expert keeps at most C = floor(cf*N/E) tokens, in order
// of the flattened index b*T+t, and the tokens past capacity get a zero update
// (the residual carries them). Outputs are scaled by the top-1 probability. The
// load-balancing loss E*sum_e mean_n(p_ne)*n_e/N is returned by aux_loss() and its
// gradient, weighted by cfg->aux_weight * call->grad_scale, is applied in backward.
#include <math.h>
#include <stdio.h>

#include "impls/experts.h"
#include "kernels/common.h"
#include "kernels/routing.h"

typedef struct {
    int N, C;             // tokens B*T, capacity per expert
    RoutedParams p;
    ExpertBank experts;   // E experts x C rows
    const float *x;       // (N,d) input of the last forward (owned by the model)
    float *logits;        // (N,E) router logits; their gradient in backward
    float *probs;         // (N,E) router softmax over experts
    int *slot_token;      // (E,C) token kept in each slot, -1 when empty
    float *slot_gate;     // (E,C) its top-1 probability
    int *counts;          // (E) tokens choosing each expert, before dropping
    float *aux;           // (1) load-balancing loss of the last forward
    float *xin;           // (E,C,d) gathered expert inputs
    float *y;             // (E,C,d) expert outputs
    float *dy;            // (E,C,d) gradient of y, then of xin
    float *dgate;         // (E,C)
    float *dprobs;        // (N,E)
} TCFF;

static void tc_declare(const FFConfig *c, const char *prefix, ParamTable *pt) {
    routed_declare(c, prefix, pt);
}

static void *tc_create(const FFConfig *c, const Ops *ops, const ParamTable *pt,
                       const char *prefix, int B, int T, char *err, size_t errlen) {
    if (routed_check_config(c, ops, err, errlen)) return NULL;
    int N = B * T, E = c->n_experts;
    // No expert can take more than all N tokens, so a larger capacity only wastes
    // slots; clamping in double first also keeps a huge cf out of the int conversion.
    double capacity = floor((double)c->capacity_factor * N / E);
    int C = capacity < N ? (int)capacity : N;
    if (C < 1) {
        snprintf(err, errlen,
                 "Token Choice capacity floor(cf*N/E) = floor(%g*%d/%d) is 0: no token "
                 "could reach an expert (raise the capacity factor or the batch)",
                 c->capacity_factor, N, E);
        return NULL;
    }
    TCFF *s = callocCheck(1, sizeof(TCFF));
    s->N = N;
    s->C = C;
    s->p = routed_offsets(pt, prefix);
    size_t d = (size_t)c->d, slots = (size_t)E * C;
    expert_bank_init(&s->experts, ops, c, C);
    s->logits = ops->alloc((size_t)N * E * sizeof(float));
    s->probs = ops->alloc((size_t)N * E * sizeof(float));
    s->slot_token = ops->alloc(slots * sizeof(int));
    s->slot_gate = ops->alloc(slots * sizeof(float));
    s->counts = ops->alloc((size_t)E * sizeof(int));
    s->aux = ops->alloc(sizeof(float));
    s->xin = ops->alloc(slots * d * sizeof(float));
    s->y = ops->alloc(slots * d * sizeof(float));
    s->dy = ops->alloc(slots * d * sizeof(float));
    s->dgate = ops->alloc(slots * sizeof(float));
    s->dprobs = ops->alloc((size_t)N * E * sizeof(float));
    return s;
}

static void tc_destroy(void *state, const Ops *ops) {
    TCFF *s = state;
    expert_bank_free(&s->experts, ops);
    void *bufs[] = {s->logits, s->probs, s->slot_token, s->slot_gate, s->counts, s->aux,
                    s->xin,    s->y,     s->dy,         s->dgate,     s->dprobs};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ops->free(bufs[i]);
    free(s);
}

static void tc_forward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                       const float *params, const float *x, float *out) {
    (void)call;  // routing is the same in training and eval
    TCFF *s = state;
    const struct RoutingOps *r = ops->routing;
    int E = c->n_experts, d = c->d, rows = E * s->C;
    s->x = x;
    router_forward(ops, c, params, &s->p, x, s->logits, s->N);
    ops->softmax_forward(s->probs, s->logits, s->N, E, 1, 1.0f);
    r->tc_route(s->slot_token, s->slot_gate, s->counts, s->probs, s->N, E, s->C);
    r->tc_aux_loss(s->aux, s->probs, s->counts, s->N, E);
    r->gather_rows(s->xin, x, s->slot_token, rows, d);
    expert_bank_forward(&s->experts, ops, c, params, &s->p, s->xin, s->y);
    // Dropped tokens are in no slot, so their rows stay exactly zero.
    ops->zero(out, (size_t)s->N * d * sizeof(float));
    r->scatter_add_rows(out, s->y, s->slot_token, s->slot_gate, rows, d);
}

static void tc_backward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                        const float *params, float *grads, const float *dout, float *dx) {
    TCFF *s = state;
    const struct RoutingOps *r = ops->routing;
    int E = c->n_experts, d = c->d, rows = E * s->C;
    ops->zero(s->dy, (size_t)rows * d * sizeof(float));
    ops->zero(s->dgate, (size_t)rows * sizeof(float));
    r->scatter_add_rows_backward(s->dy, s->dgate, dout, s->y, s->slot_token, s->slot_gate,
                                 rows, d);
    float *dxin = s->dy;  // (E,C,d)
    expert_bank_backward(&s->experts, ops, c, params, grads, &s->p, s->xin, s->dy, dxin);
    r->scatter_add_rows(dx, dxin, s->slot_token, NULL, rows, d);
    // Router probabilities receive the gate gradient of kept tokens and the
    // load-balancing gradient of every token.
    ops->zero(s->dprobs, (size_t)s->N * E * sizeof(float));
    r->slot_gate_backward(s->dprobs, s->dgate, s->slot_token, E, s->C);
    float aux_weight = c->aux_weight * call->grad_scale;
    if (aux_weight != 0.0f) r->tc_aux_loss_backward(s->dprobs, s->counts, s->N, E, aux_weight);
    float *dlogits = s->logits;  // (N,E); the logits themselves are not needed
    ops->zero(dlogits, (size_t)s->N * E * sizeof(float));
    ops->softmax_backward(dlogits, s->dprobs, s->probs, s->N, E, 1, 1.0f);
    router_backward(ops, c, params, grads, &s->p, s->x, dlogits, dx, s->N);
}

static double tc_aux_loss(void *state, const Ops *ops) {
    TCFF *s = state;
    float aux;
    ops->to_host(&aux, s->aux, sizeof aux);
    return aux;
}

static void tc_stats(void *state, const Ops *ops, const FFConfig *c, FFStats *out) {
    TCFF *s = state;
    int E = c->n_experts, N = s->N;
    float *probs = host_copy(ops, s->probs, (size_t)N * E * sizeof(float));
    int *counts = host_copy(ops, s->counts, (size_t)E * sizeof(int));
    out->router_entropy = mean_normalised_entropy(probs, N, E, 1);
    int dropped = 0, max_load = 0;
    for (int e = 0; e < E; e++) {
        if (counts[e] > s->C) dropped += counts[e] - s->C;
        if (counts[e] > max_load) max_load = counts[e];
    }
    out->dropped_fraction = (double)dropped / N;
    out->load_max_over_mean = (double)max_load * E / N;
    out->aux_loss = tc_aux_loss(state, ops);
    free(counts);
    free(probs);
}

const FFVTable ff_tc_vtable = {
    .kind = FF_TC,
    .family = "tc",
    .name_prefix = "tc",
    .routing_macs_per_expert_width = 1,  // router
    .coupling = FF_ROWS_COMPETE,
    .converts_to = -1,
    .declare = tc_declare,
    .create = tc_create,
    .destroy = tc_destroy,
    .forward = tc_forward,
    .backward = tc_backward,
    .aux_loss = tc_aux_loss,
    .stats = tc_stats,
};
