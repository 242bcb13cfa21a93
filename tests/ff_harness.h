// Test harness for one FF layer on the CPU table: build its parameters, run it,
// and check its gradients against central finite differences. Shared by
// tests/test_mot.c, test_ec.c and test_tc.c (header-only, like testutil.h).
#pragma once
#include <stdio.h>
#include <string.h>

#include "impls/ff.h"
#include "kernels/common.h"
#include "tests/gradcheck.h"
#include "tests/testutil.h"

typedef struct {
    FFConfig cfg;
    FFCall call;  // training by default: softmax routing, aux gradient unscaled
    const FFVTable *vt;
    ParamTable pt;
    int B, T;
    float *params;  // (pt.total)
    float *grads;   // (pt.total)
    void *state;
} FFHarness;

// A small fp32 config of the given family; tests adjust fields before ffh_init.
static inline FFConfig ffh_config(FFKind kind) {
    FFConfig c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.d = 8;
    c.n_experts = 4;
    c.expert_size = 6;
    c.dff = 6;
    c.group_size = 2;
    c.temperature = 1.0f;
    c.topk = 1;
    c.capacity_factor = 1.25f;
    c.precision = PREC_FP32;
    return c;
}

// Declare and create the layer for a (B,T) batch. Parameters are uniform in
// +-param_scale (not the SPEC init) so activations are O(1) and finite differences
// in fp32 resolve the gradients well.
static inline void ffh_init(FFHarness *h, const FFVTable *vt, const FFConfig *cfg, int B,
                            int T, float param_scale, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->cfg = *cfg;
    h->call = (FFCall){.discrete = 0, .grad_scale = 1.0f};
    h->vt = vt;
    h->B = B;
    h->T = T;
    param_table_init(&h->pt);
    vt->declare(cfg, "ff", &h->pt);
    h->params = callocCheck(h->pt.total, sizeof(float));
    h->grads = callocCheck(h->pt.total, sizeof(float));
    test_fill_uniform(h->params, h->pt.total, param_scale, seed);
    char err[256] = "";
    h->state = vt->create(&h->cfg, &ops_cpu, &h->pt, "ff", B, T, err, sizeof err);
    ck_assert_msg(h->state != NULL, "create failed: %s", err);
}

static inline void ffh_free(FFHarness *h) {
    h->vt->destroy(h->state, &ops_cpu);
    param_table_free(&h->pt);
    free(h->params);
    free(h->grads);
}

static inline size_t ffh_numel(const FFHarness *h) { return (size_t)h->B * h->T * h->cfg.d; }

static inline float *ffh_param(FFHarness *h, const char *suffix) {
    char name[PARAM_NAME_LEN];
    snprintf(name, sizeof name, "ff.%s", suffix);
    return h->params + param_offset(&h->pt, name);
}

static inline void ffh_forward(FFHarness *h, const float *x, float *out) {
    h->vt->forward(h->state, &ops_cpu, &h->cfg, &h->call, h->params, x, out);
}

// The scalar the gradient check differentiates: sum(out * proj) plus the layer's
// weighted aux loss, exactly what backward(dout = proj) differentiates.
static inline double ffh_loss(FFHarness *h, const float *x, const float *proj, float *out) {
    ffh_forward(h, x, out);
    double loss = 0;
    for (size_t i = 0; i < ffh_numel(h); i++) loss += (double)out[i] * proj[i];
    if (h->vt->aux_loss) loss += h->cfg.aux_weight * h->vt->aux_loss(h->state, &ops_cpu);
    return loss;
}

// The problem ffh_gradcheck hands to gradcheck_coord.
typedef struct {
    FFHarness *h;
    const float *x, *proj;
    float *out;
} FFLossCtx;

static inline double ffh_loss_of_ctx(void *ctx) {
    FFLossCtx *c = ctx;
    return ffh_loss(c->h, c->x, c->proj, c->out);
}

// Finite-difference check of d loss / d (x and every parameter) on random inputs.
static inline GradCheck ffh_gradcheck(FFHarness *h, const float *x_in, uint64_t seed) {
    size_t n = ffh_numel(h), P = h->pt.total;
    float *x = mallocCheck(n * sizeof(float)), *proj = mallocCheck(n * sizeof(float));
    float *out = mallocCheck(n * sizeof(float)), *dx = mallocCheck(n * sizeof(float));
    memcpy(x, x_in, n * sizeof(float));
    test_fill_uniform(proj, n, 1.0f, seed + 7);
    // Backward must accumulate: start from non-zero gradients and subtract them after.
    const float dx0 = 0.5f, grad0 = 0.25f;
    for (size_t i = 0; i < n; i++) dx[i] = dx0;
    for (size_t i = 0; i < P; i++) h->grads[i] = grad0;
    double f0 = ffh_loss(h, x, proj, out);
    h->vt->backward(h->state, &ops_cpu, &h->cfg, &h->call, h->params, h->grads, proj, dx);
    float *grads = mallocCheck(P * sizeof(float));
    for (size_t i = 0; i < P; i++) grads[i] = h->grads[i] - grad0;
    for (size_t i = 0; i < n; i++) dx[i] -= dx0;

    FFLossCtx ctx = {h, x, proj, out};
    FDCheck fd = {.loss = ffh_loss_of_ctx, .ctx = &ctx, .step = 1e-3f, .abs_tol = 3e-3,
                  .rel_tol = 1e-2};
    GradCheck gc = {0};
    for (size_t i = 0; i < P; i++) gradcheck_coord(&fd, &h->params[i], grads[i], f0, &gc);
    for (size_t i = 0; i < n; i++) gradcheck_coord(&fd, &x[i], dx[i], f0, &gc);
    free(grads);
    free(x);
    free(proj);
    free(out);
    free(dx);
    return gc;
}
