// Expert Choice (SPEC §2): tokens are grouped G at a time at the same position
// across the batch, exactly as in MoT (so the layer stays causal); the router
// softmax runs over experts per token, and every expert takes the k tokens of each
// group it rates highest. Each token gets the router-probability-weighted sum of
// the experts that chose it (possibly none), then a LayerNorm. No auxiliary loss.
#include <stdio.h>

#include "impls/experts.h"
#include "kernels/common.h"
#include "kernels/routing.h"

typedef struct {
    int B, T, N, M;       // batch, positions, tokens, groups
    int S;                // slots per expert: k per group
    RoutedParams p;
    size_t ln_w, ln_b;
    ExpertBank experts;   // E experts x S rows
    float *xt;            // (T,B,d) = (M,G,d) grouped input
    float *logits;        // (N,E) router logits; their gradient in backward
    float *probs;         // (N,E) router softmax over experts
    int *slot_token;      // (E,M,k) token row (of xt) chosen for each slot
    float *slot_gate;     // (E,M,k) its router probability
    float *xin;           // (E,S,d) gathered expert inputs
    float *y;             // (E,S,d) expert outputs
    float *combined;      // (N,d) gated sum of expert outputs: the LayerNorm input
    float *ln_mean;       // (N)
    float *ln_rstd;       // (N)
    float *group_buf;     // (N,d) LayerNorm output in group order; dout in group order
    float *dcombined;     // (N,d); later the transposed dx
    float *dy;            // (E,S,d) gradient of y, then of xin
    float *dgate;         // (E,S)
    float *dprobs;        // (N,E)
    float *dxt;           // (N,d)
} ECFF;

static void ec_declare(const FFConfig *c, const char *prefix, ParamTable *pt) {
    routed_declare(c, prefix, pt);
    char name[PARAM_NAME_LEN];
    snprintf(name, sizeof name, "%s.ln.weight", prefix);
    param_add(pt, name, INIT_ONES, 0.0f, 1, c->d);
    snprintf(name, sizeof name, "%s.ln.bias", prefix);
    param_add(pt, name, INIT_ZEROS, 0.0f, 1, c->d);
}

static void *ec_create(const FFConfig *c, const Ops *ops, const ParamTable *pt,
                       const char *prefix, int B, int T, char *err, size_t errlen) {
    if (routed_check_config(c, ops, err, errlen)) return NULL;
    if (routed_check_groups(c, "Expert Choice", B, err, errlen)) return NULL;
    int G = c->group_size, k = c->topk;
    if (k < 1 || k > G) {
        snprintf(err, errlen,
                 "Expert Choice top-k=%d must be between 1 and the group size G=%d", k, G);
        return NULL;
    }
    ECFF *s = callocCheck(1, sizeof(ECFF));
    s->B = B;
    s->T = T;
    s->N = B * T;
    s->M = s->N / G;
    s->S = s->M * k;
    s->p = routed_offsets(pt, prefix);
    s->ln_w = routed_offset_of(pt, prefix, "ln.weight");
    s->ln_b = routed_offset_of(pt, prefix, "ln.bias");
    size_t E = (size_t)c->n_experts, d = (size_t)c->d, N = (size_t)s->N, S = (size_t)s->S;
    expert_bank_init(&s->experts, ops, c, s->S);
    s->xt = ops->alloc(N * d * sizeof(float));
    s->logits = ops->alloc(N * E * sizeof(float));
    s->probs = ops->alloc(N * E * sizeof(float));
    s->slot_token = ops->alloc(E * S * sizeof(int));
    s->slot_gate = ops->alloc(E * S * sizeof(float));
    s->xin = ops->alloc(E * S * d * sizeof(float));
    s->y = ops->alloc(E * S * d * sizeof(float));
    s->combined = ops->alloc(N * d * sizeof(float));
    s->ln_mean = ops->alloc(N * sizeof(float));
    s->ln_rstd = ops->alloc(N * sizeof(float));
    s->group_buf = ops->alloc(N * d * sizeof(float));
    s->dcombined = ops->alloc(N * d * sizeof(float));
    s->dy = ops->alloc(E * S * d * sizeof(float));
    s->dgate = ops->alloc(E * S * sizeof(float));
    s->dprobs = ops->alloc(N * E * sizeof(float));
    s->dxt = ops->alloc(N * d * sizeof(float));
    return s;
}

static void ec_destroy(void *state, const Ops *ops) {
    ECFF *s = state;
    expert_bank_free(&s->experts, ops);
    void *bufs[] = {s->xt,        s->logits,  s->probs,   s->slot_token, s->slot_gate,
                    s->xin,       s->y,       s->combined, s->ln_mean,   s->ln_rstd,
                    s->group_buf, s->dcombined, s->dy,    s->dgate,      s->dprobs,
                    s->dxt};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ops->free(bufs[i]);
    free(s);
}

static void ec_forward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                       const float *params, const float *x, float *out) {
    (void)call;  // routing is the same in training and eval
    ECFF *s = state;
    const struct RoutingOps *r = ops->routing;
    int E = c->n_experts, d = c->d, rows = E * s->S;
    ops->transpose01(s->xt, x, s->B, s->T, d);
    router_forward(ops, c, params, &s->p, s->xt, s->logits, s->N);
    ops->softmax_forward(s->probs, s->logits, s->N, E, 1, 1.0f);
    r->ec_topk(s->slot_token, s->slot_gate, s->probs, s->M, c->group_size, E, c->topk);
    r->gather_rows(s->xin, s->xt, s->slot_token, rows, d);
    expert_bank_forward(&s->experts, ops, c, params, &s->p, s->xin, s->y);
    ops->zero(s->combined, (size_t)s->N * d * sizeof(float));
    r->scatter_add_rows(s->combined, s->y, s->slot_token, s->slot_gate, rows, d);
    ops->layernorm_forward(s->group_buf, s->ln_mean, s->ln_rstd, s->combined,
                           params + s->ln_w, params + s->ln_b, s->N, d);
    ops->transpose01(out, s->group_buf, s->T, s->B, d);
}

static void ec_backward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                        const float *params, float *grads, const float *dout, float *dx) {
    (void)call;  // no aux loss to scale
    ECFF *s = state;
    const struct RoutingOps *r = ops->routing;
    int E = c->n_experts, d = c->d, rows = E * s->S;
    size_t Nd = (size_t)s->N * d;
    float *dout_g = s->group_buf;  // (N,d) in group order
    ops->transpose01(dout_g, dout, s->B, s->T, d);
    ops->zero(s->dcombined, Nd * sizeof(float));
    ops->layernorm_backward(s->dcombined, grads + s->ln_w, grads + s->ln_b, dout_g,
                            s->combined, params + s->ln_w, s->ln_mean, s->ln_rstd, s->N, d);
    // Gated combine backward: to the expert outputs and to the gates.
    ops->zero(s->dy, (size_t)rows * d * sizeof(float));
    ops->zero(s->dgate, (size_t)rows * sizeof(float));
    r->scatter_add_rows_backward(s->dy, s->dgate, s->dcombined, s->y, s->slot_token,
                                 s->slot_gate, rows, d);
    float *dxin = s->dy;  // (E,S,d)
    expert_bank_backward(&s->experts, ops, c, params, grads, &s->p, s->xin, s->dy, dxin);
    // The gather's backward scatters each slot's input gradient back to its token.
    ops->zero(s->dxt, Nd * sizeof(float));
    r->scatter_add_rows(s->dxt, dxin, s->slot_token, NULL, rows, d);
    // Gates are router probabilities: through the softmax over experts to the router.
    ops->zero(s->dprobs, (size_t)s->N * E * sizeof(float));
    r->slot_gate_backward(s->dprobs, s->dgate, s->slot_token, E, s->S);
    float *dlogits = s->logits;  // (N,E); the logits themselves are not needed
    ops->zero(dlogits, (size_t)s->N * E * sizeof(float));
    ops->softmax_backward(dlogits, s->dprobs, s->probs, s->N, E, 1, 1.0f);
    router_backward(ops, c, params, grads, &s->p, s->xt, dlogits, s->dxt, s->N);
    float *dx_batch = s->dcombined;  // (B,T,d); dcombined is consumed
    ops->transpose01(dx_batch, s->dxt, s->T, s->B, d);
    ops->axpy(dx, 1.0f, dx_batch, Nd);
}

// Entropy of the router over experts; tokens no expert chose; and the imbalance
// of the router's preferences: how many tokens rate each expert highest, max over
// mean (the load a top-1 router would see; EC's own loads are equal by design).
static void ec_stats(void *state, const Ops *ops, const FFConfig *c, FFStats *out) {
    ECFF *s = state;
    int E = c->n_experts, N = s->N;
    size_t slots = (size_t)E * s->S;
    float *probs = host_copy(ops, s->probs, (size_t)N * E * sizeof(float));
    int *slot_token = host_copy(ops, s->slot_token, slots * sizeof(int));
    out->router_entropy = mean_normalised_entropy(probs, N, E, 1);

    char *chosen = callocCheck((size_t)N, 1);
    for (size_t i = 0; i < slots; i++) chosen[slot_token[i]] = 1;
    int unchosen = 0;
    for (int n = 0; n < N; n++) unchosen += !chosen[n];
    out->dropped_fraction = (double)unchosen / N;

    int *preferred = callocCheck((size_t)E, sizeof(int));
    for (int n = 0; n < N; n++) {
        const float *p = probs + (size_t)n * E;
        int best = 0;
        for (int e = 1; e < E; e++)
            if (p[e] > p[best]) best = e;
        preferred[best]++;
    }
    int max_load = 0;
    for (int e = 0; e < E; e++)
        if (preferred[e] > max_load) max_load = preferred[e];
    out->load_max_over_mean = (double)max_load * E / N;
    free(preferred);
    free(chosen);
    free(slot_token);
    free(probs);
}

const FFVTable ff_ec_vtable = {
    .kind = FF_EC,
    .family = "ec",
    .name_prefix = "ec",
    .routing_macs_per_expert_width = 1,  // router
    .coupling = FF_ROWS_GROUPED,
    .converts_to = -1,
    .declare = ec_declare,
    .create = ec_create,
    .destroy = ec_destroy,
    .forward = ec_forward,
    .backward = ec_backward,
    .stats = ec_stats,
};
