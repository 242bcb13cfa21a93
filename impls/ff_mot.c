// Mixture of Tokens (SPEC §2): each group of G same-position tokens from
// different sequences is mixed into one token per expert with softmax weights
// over the group, the experts run on the mixtures, and every token receives the
// mixture outputs back with the same weights. Groups: x (B,T,d) is transposed to
// (T,B,d), so group g = t*(B/G)+j is rows j*G .. j*G+G-1 of position t, and the
// whole layer is a handful of strided-batched GEMMs over groups or experts.
#include <math.h>
#include <stdio.h>

#include "impls/experts.h"
#include "kernels/common.h"
#include "kernels/routing.h"

typedef struct {
    int B, T;
    int Bp;               // B rounded up to a multiple of G (== B unless allow_pad)
    int N, M;             // tokens Bp*T and groups N/G
    RoutedParams p;
    ExpertBank experts;   // E experts x M rows: one mixture per group
    float *xt;            // (T,Bp,d) = (M,G,d) grouped input
    float *logits;        // (M,G,E) controller logits; their gradient in backward
    float *w;             // (M,G,E) merge and emit weights
    float *merged;        // (E,M,d) mixture of each group for each expert
    float *y;             // (E,M,d) expert outputs
    float *dw;            // (M,G,E) gradient of w
    float *dy;            // (E,M,d) gradient of y, then of merged
    float *group_buf;     // (T,Bp,d) output in group order; dout in group order
    float *dxt;           // (T,Bp,d) gradient of xt
    float *batch_buf;     // (Bp,T,d) padded input/dout, padded output, transposed dx
} MoTFF;

static void mot_declare(const FFConfig *c, const char *prefix, ParamTable *pt) {
    routed_declare(c, prefix, pt);
}

static void *mot_create(const FFConfig *c, const Ops *ops, const ParamTable *pt,
                        const char *prefix, int B, int T, char *err, size_t errlen) {
    if (routed_check_config(c, ops, err, errlen)) return NULL;
    int G = c->group_size;
    // Training needs whole groups; eval with allow_pad pads the batch instead.
    if ((!c->allow_pad || G < 1) && routed_check_groups(c, "MoT", B, err, errlen)) return NULL;
    if (c->temperature <= 0) {
        snprintf(err, errlen, "MoT temperature %g must be positive", c->temperature);
        return NULL;
    }
    MoTFF *s = callocCheck(1, sizeof(MoTFF));
    s->B = B;
    s->T = T;
    s->Bp = (B + G - 1) / G * G;
    s->N = s->Bp * T;
    s->M = s->N / G;
    s->p = routed_offsets(pt, prefix);
    size_t E = (size_t)c->n_experts, d = (size_t)c->d, N = (size_t)s->N, M = (size_t)s->M;
    expert_bank_init(&s->experts, ops, c, s->M);
    s->xt = ops->alloc(N * d * sizeof(float));
    s->logits = ops->alloc(N * E * sizeof(float));
    s->w = ops->alloc(N * E * sizeof(float));
    s->merged = ops->alloc(E * M * d * sizeof(float));
    s->y = ops->alloc(E * M * d * sizeof(float));
    s->dw = ops->alloc(N * E * sizeof(float));
    s->dy = ops->alloc(E * M * d * sizeof(float));
    s->group_buf = ops->alloc(N * d * sizeof(float));
    s->dxt = ops->alloc(N * d * sizeof(float));
    s->batch_buf = ops->alloc(N * d * sizeof(float));
    return s;
}

static void mot_destroy(void *state, const Ops *ops) {
    MoTFF *s = state;
    expert_bank_free(&s->experts, ops);
    float *bufs[] = {s->xt, s->logits, s->w, s->merged, s->y,
                     s->dw, s->dy, s->group_buf, s->dxt, s->batch_buf};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ops->free(bufs[i]);
    free(s);
}

// src (B,T,d) as the batch-major (Bp,T,d) tensor the grouping transposes: src
// itself, or a copy followed by zero rows when the batch is padded.
static const float *padded_batch(MoTFF *s, const Ops *ops, const FFConfig *c,
                                 const float *src) {
    if (s->Bp == s->B) return src;
    size_t real = (size_t)s->B * s->T * c->d, pad = (size_t)(s->Bp - s->B) * s->T * c->d;
    ops->copy(s->batch_buf, src, real * sizeof(float));
    ops->zero(s->batch_buf + real, pad * sizeof(float));
    return s->batch_buf;
}

// Padding rows get logit -inf, so their weight is 0 in every softmax and they never
// win a discrete argmax (each group keeps at least one real row).
static void mask_padding(MoTFF *s, const Ops *ops, const FFConfig *c) {
    int E = c->n_experts, pad = s->Bp - s->B;
    if (pad == 0) return;
    for (int t = 0; t < s->T; t++)  // pad rows t*Bp+B .. t*Bp+Bp-1 of (T,Bp,E)
        ops->fill(s->logits + ((size_t)t * s->Bp + s->B) * E, -INFINITY, (size_t)pad * E);
}

static int controller_trained(const FFConfig *c, const FFCall *call) {
    return !c->uniform && !call->discrete;
}

static void mot_forward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                        const float *params, const float *x, float *out) {
    MoTFF *s = state;
    int E = c->n_experts, d = c->d, G = c->group_size, M = s->M;
    int bf16 = precision_bf16_products(c->precision);
    ops->transpose01(s->xt, padded_batch(s, ops, c, x), s->Bp, s->T, d);

    // Weights w (M,G,E): softmax over the G tokens of each group, per expert.
    // Uniform routing is the softmax of all-zero logits: exactly 1/G, padding excluded.
    if (c->uniform)
        ops->fill(s->logits, 0.0f, (size_t)s->N * E);
    else
        router_forward(ops, c, params, &s->p, s->xt, s->logits, s->N);
    mask_padding(s, ops, c);
    if (call->discrete)
        ops->routing->group_argmax_onehot(s->w, s->logits, M, G, E);
    else
        ops->softmax_forward(s->w, s->logits, M, G, E, 1.0f / c->temperature);

    // Merge: merged[:,g,:] (E,d) = w_gᵀ (E,G) · xt_g (G,d), batched over groups,
    // written with row stride M*d so that each expert's mixtures are contiguous.
    ops->gemm(&(GemmArgs){.transA = 1, .M = E, .N = d, .K = G, .alpha = 1.0f,
                          .A = s->w, .strideA = (long)G * E,
                          .B = s->xt, .strideB = (long)G * d,
                          .C = s->merged, .ldc = M * d, .strideC = d, .batch = M,
                          .bf16 = bf16});
    expert_bank_forward(&s->experts, ops, c, params, &s->p, s->merged, s->y);
    // Emit: out_g (G,d) = w_g (G,E) · y[:,g,:] (E,d)
    ops->gemm(&(GemmArgs){.M = G, .N = d, .K = E, .alpha = 1.0f,
                          .A = s->w, .strideA = (long)G * E,
                          .B = s->y, .ldb = M * d, .strideB = d,
                          .C = s->group_buf, .strideC = (long)G * d, .batch = M,
                          .bf16 = bf16});
    if (s->Bp == s->B) {
        ops->transpose01(out, s->group_buf, s->T, s->B, d);
    } else {
        ops->transpose01(s->batch_buf, s->group_buf, s->T, s->Bp, d);
        ops->copy(out, s->batch_buf, (size_t)s->B * s->T * d * sizeof(float));
    }
}

static void mot_backward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                         const float *params, float *grads, const float *dout, float *dx) {
    MoTFF *s = state;
    int E = c->n_experts, d = c->d, G = c->group_size, M = s->M;
    int bf16 = precision_bf16_products(c->precision);
    float *dout_g = s->group_buf;  // (M,G,d)
    ops->transpose01(dout_g, padded_batch(s, ops, c, dout), s->Bp, s->T, d);

    // Emit backward: dw_g (G,E) = dout_g (G,d) · y_gᵀ (d,E); dy_g (E,d) = w_gᵀ · dout_g
    ops->gemm(&(GemmArgs){.transB = 1, .M = G, .N = E, .K = d, .alpha = 1.0f,
                          .A = dout_g, .strideA = (long)G * d,
                          .B = s->y, .ldb = M * d, .strideB = d,
                          .C = s->dw, .strideC = (long)G * E, .batch = M, .bf16 = bf16});
    ops->gemm(&(GemmArgs){.transA = 1, .M = E, .N = d, .K = G, .alpha = 1.0f,
                          .A = s->w, .strideA = (long)G * E,
                          .B = dout_g, .strideB = (long)G * d,
                          .C = s->dy, .ldc = M * d, .strideC = d, .batch = M, .bf16 = bf16});
    float *dmerged = s->dy;  // (E,M,d), written over dy by the expert backward
    expert_bank_backward(&s->experts, ops, c, params, grads, &s->p, s->merged, s->dy, dmerged);
    // Merge backward: dw_g (G,E) += xt_g (G,d) · dmerged_gᵀ (d,E);
    //                 dxt_g (G,d) = w_g (G,E) · dmerged_g (E,d)
    ops->gemm(&(GemmArgs){.transB = 1, .M = G, .N = E, .K = d, .alpha = 1.0f, .beta = 1.0f,
                          .A = s->xt, .strideA = (long)G * d,
                          .B = dmerged, .ldb = M * d, .strideB = d,
                          .C = s->dw, .strideC = (long)G * E, .batch = M, .bf16 = bf16});
    ops->gemm(&(GemmArgs){.M = G, .N = d, .K = E, .alpha = 1.0f,
                          .A = s->w, .strideA = (long)G * E,
                          .B = dmerged, .ldb = M * d, .strideB = d,
                          .C = s->dxt, .strideC = (long)G * d, .batch = M, .bf16 = bf16});
    // Through the softmax over the group into the controller. Uniform and discrete
    // weights do not depend on it, so it gets no gradient there.
    if (controller_trained(c, call)) {
        float *dlogits = s->logits;  // (M,G,E); the logits themselves are not needed
        ops->zero(dlogits, (size_t)s->N * E * sizeof(float));
        ops->softmax_backward(dlogits, s->dw, s->w, M, G, E, 1.0f / c->temperature);
        router_backward(ops, c, params, grads, &s->p, s->xt, dlogits, s->dxt, s->N);
    }
    ops->transpose01(s->batch_buf, s->dxt, s->T, s->Bp, d);
    ops->axpy(dx, 1.0f, s->batch_buf, (size_t)s->B * s->T * d);
}

static void mot_stats(void *state, const Ops *ops, const FFConfig *c, FFStats *out) {
    MoTFF *s = state;
    float *w = host_copy(ops, s->w, (size_t)s->N * c->n_experts * sizeof(float));
    out->router_entropy = mean_normalised_entropy(w, s->M, c->group_size, c->n_experts);
    free(w);
}

const FFVTable ff_mot_vtable = {
    .kind = FF_MOT,
    .family = "mot",
    .name_prefix = "mot",
    .routing_macs_per_expert_width = 3,  // controller, merge, emit
    .coupling = FF_ROWS_GROUPED,
    .converts_to = FF_TC,  // the same tensors: controller -> router (SPEC §2)
    .declare = mot_declare,
    .create = mot_create,
    .destroy = mot_destroy,
    .forward = mot_forward,
    .backward = mot_backward,
    .stats = mot_stats,
};
