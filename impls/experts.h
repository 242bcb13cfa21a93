// Pieces shared by the three routed FF families (Mixture of Tokens, Expert Choice,
// Token Choice): their parameters, the bank of E bias-free ReLU experts run as
// batched GEMMs, the router/controller projection, same-position grouping, and
// host-side statistics helpers.
#pragma once
#include <stddef.h>

#include "impls/ff.h"

// Parameter offsets of a routed layer (SPEC §8 names under the layer's prefix).
typedef struct {
    size_t lin1;    // (E,d,es)
    size_t lin2;    // (E,es,d)
    size_t router;  // (d,E)
} RoutedParams;

// Declare <prefix>.lin1, .lin2 and .router with the SPEC §1 initialisation.
void routed_declare(const FFConfig *c, const char *prefix, ParamTable *pt);
RoutedParams routed_offsets(const ParamTable *pt, const char *prefix);
// Offset of <prefix>.<suffix>, which must exist.
size_t routed_offset_of(const ParamTable *pt, const char *prefix, const char *suffix);

// Sizes common to every routed layer, checked once in create(): returns 0, or -1
// with a message naming the bad value when the config cannot run.
int routed_check_config(const FFConfig *c, const Ops *ops, char *err, size_t errlen);
// MoT and EC group G same-position tokens of consecutive batch rows: B must be a
// multiple of G. Returns 0, or -1 with the message and its fix.
int routed_check_groups(const FFConfig *c, const char *family, int B, char *err,
                        size_t errlen);

// E experts, each a bias-free ReLU FF y = ReLU(in·lin1_e)·lin2_e, applied to its
// own R rows. Owns the hidden activations its backward needs.
typedef struct {
    int R;        // rows per expert
    float *h;     // (E,R,es) ReLU output, kept for backward
    float *dh;    // (E,R,es) scratch: gradient at the ReLU output
    float *dpre;  // (E,R,es) scratch: gradient at the ReLU input
} ExpertBank;

void expert_bank_init(ExpertBank *bank, const Ops *ops, const FFConfig *c, int R);
void expert_bank_free(ExpertBank *bank, const Ops *ops);
// y (E,R,d) = experts applied to in (E,R,d).
void expert_bank_forward(ExpertBank *bank, const Ops *ops, const FFConfig *c,
                         const float *params, const RoutedParams *p, const float *in,
                         float *y);
// Given dy (E,R,d): lin1/lin2 gradients accumulate into grads; din (E,R,d) is
// OVERWRITTEN with the input gradient and may alias dy (dy is consumed first).
void expert_bank_backward(ExpertBank *bank, const Ops *ops, const FFConfig *c,
                          const float *params, float *grads, const RoutedParams *p,
                          const float *in, float *dy, float *din);

// logits (N,E) = x (N,d) · router (d,E), in bf16 where precision_bf16_router says so
// (SPEC §4: fp32 under "mixed", bf16 under "bf16").
void router_forward(const Ops *ops, const FFConfig *c, const float *params,
                    const RoutedParams *p, const float *x, float *logits, int N);
// grads.router += xᵀ·dlogits; dx (N,d) += dlogits·routerᵀ.
void router_backward(const Ops *ops, const FFConfig *c, const float *params, float *grads,
                     const RoutedParams *p, const float *x, const float *dlogits, float *dx,
                     int N);

// Host helpers for stats(). Mean over (outer,inner) of the entropy of the
// distribution p along axis n of (outer,n,inner), divided by log n (0 when n == 1).
double mean_normalised_entropy(const float *p, int outer, int n, int inner);
// A host copy (malloc'd, caller frees) of `bytes` of device memory.
void *host_copy(const Ops *ops, const void *src, size_t bytes);
