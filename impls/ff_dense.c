// Dense FF of the Transformer baseline: Linear(d→dff, bias) → ReLU → Linear(dff→d, bias).
#include <math.h>
#include <stdio.h>

#include "impls/ff.h"
#include "impls/linear.h"
#include "kernels/common.h"

typedef struct {
    int N;                     // tokens in the batch (B*T)
    size_t w1, b1, w2, b2;     // parameter offsets
    const float *x;            // (N,d) input of the last forward (owned by the model)
    float *h;                  // (N,dff) ReLU output
    float *dh;                 // (N,dff) scratch: gradient at the ReLU output
    float *dpre;               // (N,dff) scratch: gradient at the ReLU input
} DenseFF;

static void dense_declare(const FFConfig *c, const char *prefix, ParamTable *pt) {
    char name[PARAM_NAME_LEN];
    snprintf(name, sizeof name, "%s.lin1.weight", prefix);
    param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(c->d), 2, c->dff, c->d);
    snprintf(name, sizeof name, "%s.lin1.bias", prefix);
    param_add(pt, name, INIT_UNIFORM, 1.0f / sqrtf((float)c->d), 1, c->dff);
    snprintf(name, sizeof name, "%s.lin2.weight", prefix);
    param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(c->dff), 2, c->d, c->dff);
    snprintf(name, sizeof name, "%s.lin2.bias", prefix);
    param_add(pt, name, INIT_UNIFORM, 1.0f / sqrtf((float)c->dff), 1, c->d);
}

static size_t offset_of(const ParamTable *pt, const char *prefix, const char *suffix) {
    char name[PARAM_NAME_LEN];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    return param_offset(pt, name);
}

static void *dense_create(const FFConfig *c, const Ops *ops, const ParamTable *pt,
                          const char *prefix, int B, int T, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    DenseFF *s = callocCheck(1, sizeof(DenseFF));
    s->N = B * T;
    s->w1 = offset_of(pt, prefix, "lin1.weight");
    s->b1 = offset_of(pt, prefix, "lin1.bias");
    s->w2 = offset_of(pt, prefix, "lin2.weight");
    s->b2 = offset_of(pt, prefix, "lin2.bias");
    s->h = ops->alloc((size_t)s->N * c->dff * sizeof(float));
    s->dh = ops->alloc((size_t)s->N * c->dff * sizeof(float));
    s->dpre = ops->alloc((size_t)s->N * c->dff * sizeof(float));
    return s;
}

static void dense_destroy(void *state, const Ops *ops) {
    DenseFF *s = state;
    ops->free(s->h);
    ops->free(s->dh);
    ops->free(s->dpre);
    free(s);
}

static void dense_forward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                          const float *params, const float *x, float *out) {
    (void)call;  // nothing to choose per call
    DenseFF *s = state;
    int bf16 = precision_bf16_products(c->precision);
    s->x = x;
    linear_forward(ops, s->h, x, params + s->w1, params + s->b1, s->N, c->d, c->dff, bf16);
    ops->relu_forward(s->h, s->h, (size_t)s->N * c->dff);
    linear_forward(ops, out, s->h, params + s->w2, params + s->b2, s->N, c->dff, c->d, bf16);
}

static void dense_backward(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                           const float *params, float *grads, const float *dout, float *dx) {
    (void)call;  // no aux loss to scale
    DenseFF *s = state;
    int bf16 = precision_bf16_products(c->precision);
    size_t n_hidden = (size_t)s->N * c->dff;
    // Backward ops accumulate, so both hidden gradients start from zero.
    ops->zero(s->dh, n_hidden * sizeof(float));
    ops->zero(s->dpre, n_hidden * sizeof(float));
    linear_backward(ops, s->dh, grads + s->w2, grads + s->b2, dout, s->h, params + s->w2,
                    s->N, c->dff, c->d, bf16);
    ops->relu_backward(s->dpre, s->dh, s->h, n_hidden);
    linear_backward(ops, dx, grads + s->w1, grads + s->b1, s->dpre, s->x, params + s->w1,
                    s->N, c->d, c->dff, bf16);
}

const FFVTable ff_dense_vtable = {
    .kind = FF_DENSE,
    .family = "dense",
    .name_prefix = "transformer",
    .routing_macs_per_expert_width = 0,
    .coupling = FF_ROWS_INDEPENDENT,
    .converts_to = -1,
    .declare = dense_declare,
    .create = dense_create,
    .destroy = dense_destroy,
    .forward = dense_forward,
    .backward = dense_backward,
};
