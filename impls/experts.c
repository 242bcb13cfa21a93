#include "impls/experts.h"

#include <math.h>
#include <stdio.h>

#include "kernels/common.h"

void routed_declare(const FFConfig *c, const char *prefix, ParamTable *pt) {
    char name[PARAM_NAME_LEN];
    int E = c->n_experts, d = c->d, es = c->expert_size;
    snprintf(name, sizeof name, "%s.lin1", prefix);
    param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(d), 3, E, d, es);
    snprintf(name, sizeof name, "%s.lin2", prefix);
    param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(es), 3, E, es, d);
    snprintf(name, sizeof name, "%s.router", prefix);
    param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(d), 2, d, E);
}

size_t routed_offset_of(const ParamTable *pt, const char *prefix, const char *suffix) {
    char name[PARAM_NAME_LEN];
    snprintf(name, sizeof name, "%s.%s", prefix, suffix);
    return param_offset(pt, name);
}

RoutedParams routed_offsets(const ParamTable *pt, const char *prefix) {
    return (RoutedParams){.lin1 = routed_offset_of(pt, prefix, "lin1"),
                          .lin2 = routed_offset_of(pt, prefix, "lin2"),
                          .router = routed_offset_of(pt, prefix, "router")};
}

int routed_check_config(const FFConfig *c, const Ops *ops, char *err, size_t errlen) {
    if (c->n_experts < 1 || c->expert_size < 1) {
        snprintf(err, errlen, "routed FF needs n_experts >= 1 and expert_size >= 1, got E=%d es=%d",
                 c->n_experts, c->expert_size);
        return -1;
    }
    if (!ops->routing) {
        snprintf(err, errlen, "the %s op table has no MoE routing ops (Ops.routing is NULL)",
                 ops->name);
        return -1;
    }
    return 0;
}

int routed_check_groups(const FFConfig *c, const char *family, int B, char *err,
                        size_t errlen) {
    int G = c->group_size;
    if (G < 1) {
        snprintf(err, errlen, "%s group size G=%d must be at least 1", family, G);
        return -1;
    }
    if (B % G != 0) {
        snprintf(err, errlen,
                 "%s group size G=%d does not divide batch B=%d (use a batch that is a "
                 "multiple of %d)",
                 family, G, B, G);
        return -1;
    }
    return 0;
}

void expert_bank_init(ExpertBank *bank, const Ops *ops, const FFConfig *c, int R) {
    size_t n = (size_t)c->n_experts * R * c->expert_size * sizeof(float);
    bank->R = R;
    bank->h = ops->alloc(n);
    bank->dh = ops->alloc(n);
    bank->dpre = ops->alloc(n);
}

void expert_bank_free(ExpertBank *bank, const Ops *ops) {
    ops->free(bank->h);
    ops->free(bank->dh);
    ops->free(bank->dpre);
}

void expert_bank_forward(ExpertBank *bank, const Ops *ops, const FFConfig *c,
                         const float *params, const RoutedParams *p, const float *in,
                         float *y) {
    int E = c->n_experts, d = c->d, es = c->expert_size, R = bank->R;
    int bf16 = precision_bf16_products(c->precision);
    // h_e (R,es) = in_e (R,d) · lin1_e (d,es), then ReLU in place
    ops->gemm(&(GemmArgs){.M = R, .N = es, .K = d, .alpha = 1.0f,
                          .A = in, .strideA = (long)R * d,
                          .B = params + p->lin1, .strideB = (long)d * es,
                          .C = bank->h, .strideC = (long)R * es, .batch = E, .bf16 = bf16});
    ops->relu_forward(bank->h, bank->h, (size_t)E * R * es);
    // y_e (R,d) = h_e (R,es) · lin2_e (es,d)
    ops->gemm(&(GemmArgs){.M = R, .N = d, .K = es, .alpha = 1.0f,
                          .A = bank->h, .strideA = (long)R * es,
                          .B = params + p->lin2, .strideB = (long)es * d,
                          .C = y, .strideC = (long)R * d, .batch = E, .bf16 = bf16});
}

void expert_bank_backward(ExpertBank *bank, const Ops *ops, const FFConfig *c,
                          const float *params, float *grads, const RoutedParams *p,
                          const float *in, float *dy, float *din) {
    int E = c->n_experts, d = c->d, es = c->expert_size, R = bank->R;
    int bf16 = precision_bf16_products(c->precision);
    // dlin2_e (es,d) += h_eᵀ (es,R) · dy_e (R,d)
    ops->gemm(&(GemmArgs){.transA = 1, .M = es, .N = d, .K = R, .alpha = 1.0f, .beta = 1.0f,
                          .A = bank->h, .strideA = (long)R * es,
                          .B = dy, .strideB = (long)R * d,
                          .C = grads + p->lin2, .strideC = (long)es * d, .batch = E,
                          .bf16 = bf16});
    // dh_e (R,es) = dy_e (R,d) · lin2_eᵀ (d,es)
    ops->gemm(&(GemmArgs){.transB = 1, .M = R, .N = es, .K = d, .alpha = 1.0f,
                          .A = dy, .strideA = (long)R * d,
                          .B = params + p->lin2, .strideB = (long)es * d,
                          .C = bank->dh, .strideC = (long)R * es, .batch = E, .bf16 = bf16});
    size_t n_hidden = (size_t)E * R * es;
    ops->zero(bank->dpre, n_hidden * sizeof(float));  // relu_backward accumulates
    ops->relu_backward(bank->dpre, bank->dh, bank->h, n_hidden);
    // dlin1_e (d,es) += in_eᵀ (d,R) · dpre_e (R,es)
    ops->gemm(&(GemmArgs){.transA = 1, .M = d, .N = es, .K = R, .alpha = 1.0f, .beta = 1.0f,
                          .A = in, .strideA = (long)R * d,
                          .B = bank->dpre, .strideB = (long)R * es,
                          .C = grads + p->lin1, .strideC = (long)d * es, .batch = E,
                          .bf16 = bf16});
    // din_e (R,d) = dpre_e (R,es) · lin1_eᵀ (es,d); dy is no longer read, so din may be dy
    ops->gemm(&(GemmArgs){.transB = 1, .M = R, .N = d, .K = es, .alpha = 1.0f,
                          .A = bank->dpre, .strideA = (long)R * es,
                          .B = params + p->lin1, .strideB = (long)d * es,
                          .C = din, .strideC = (long)R * d, .batch = E, .bf16 = bf16});
}

void router_forward(const Ops *ops, const FFConfig *c, const float *params,
                    const RoutedParams *p, const float *x, float *logits, int N) {
    ops->gemm(&(GemmArgs){.M = N, .N = c->n_experts, .K = c->d, .alpha = 1.0f,
                          .A = x, .B = params + p->router, .C = logits,
                          .bf16 = precision_bf16_router(c->precision)});
}

void router_backward(const Ops *ops, const FFConfig *c, const float *params, float *grads,
                     const RoutedParams *p, const float *x, const float *dlogits, float *dx,
                     int N) {
    int E = c->n_experts, d = c->d, bf16 = precision_bf16_router(c->precision);
    // drouter (d,E) += xᵀ (d,N) · dlogits (N,E)
    ops->gemm(&(GemmArgs){.transA = 1, .M = d, .N = E, .K = N, .alpha = 1.0f, .beta = 1.0f,
                          .A = x, .B = dlogits, .C = grads + p->router, .bf16 = bf16});
    // dx (N,d) += dlogits (N,E) · routerᵀ (E,d)
    ops->gemm(&(GemmArgs){.transB = 1, .M = N, .N = d, .K = E, .alpha = 1.0f, .beta = 1.0f,
                          .A = dlogits, .B = params + p->router, .C = dx, .bf16 = bf16});
}

double mean_normalised_entropy(const float *p, int outer, int n, int inner) {
    if (n <= 1 || outer * inner == 0) return 0.0;
    double total = 0;
    for (int o = 0; o < outer; o++)
        for (int k = 0; k < inner; k++) {
            double h = 0;
            for (int i = 0; i < n; i++) {
                double q = p[((size_t)o * n + i) * inner + k];
                if (q > 0) h -= q * log(q);
            }
            total += h;
        }
    return total / ((double)outer * inner * log((double)n));
}

void *host_copy(const Ops *ops, const void *src, size_t bytes) {
    void *host = mallocCheck(bytes);
    ops->to_host(host, src, bytes);
    return host;
}
