// The feed-forward slot of a Transformer block: dense FF, Mixture of Tokens,
// Expert Choice or Token Choice. A family implements FFVTable; model.c holds one
// FFLayer per block and knows nothing about routing.
#pragma once
#include <stdio.h>

#include "impls/params.h"
#include "kernels/ops.h"

typedef enum { FF_DENSE = 0, FF_MOT, FF_EC, FF_TC } FFKind;

typedef struct {
    FFKind kind;
    int d;                  // model width
    int dff;                // dense hidden width (an expert of "full size")
    int n_experts;          // E
    int expert_size;        // es = dff * G / E for MoT
    int group_size;         // G (MoT, EC)
    float temperature;      // MoT softmax temperature tau (1.0)
    int uniform;            // MoT ablation: all merge weights 1/G
    int discrete;           // MoT eval: argmax one-hot over the group
    int allow_pad;          // MoT eval only: pad a batch not divisible by G
    int topk;               // EC tokens per expert per group (k)
    float capacity_factor;  // TC (1.25)
    float aux_alpha;        // TC load-balancing weight alpha (0.01)
    float aux_weight;       // set by the model: alpha / number of MoE layers, the
                            // weight of this layer's aux term in the total loss
    Precision precision;
} FFConfig;

// Per-layer numbers a researcher checks when a run looks wrong; filled at eval.
typedef struct {
    double router_entropy;   // normalised to [0,1] (MoT: merge-weight entropy over G)
    double dropped_fraction; // TC
    double load_max_over_mean;  // TC/EC expert load imbalance
    double aux_loss;         // TC load-balancing term of this layer (unscaled by alpha)
} FFStats;

typedef struct FFLayer FFLayer;

typedef struct {
    const char *family;  // "dense", "mot", "ec", "tc"
    // Register this layer's tensors under prefix (e.g. "blocks.5.ff").
    void (*declare)(const FFConfig *c, const char *prefix, ParamTable *pt);
    // Allocate activation buffers for a (B,T) batch on ops' device. Returns NULL
    // and writes err when the config cannot run (e.g. B not divisible by G).
    void *(*create)(const FFConfig *c, const Ops *ops, const ParamTable *pt,
                    const char *prefix, int B, int T, char *err, size_t errlen);
    void (*destroy)(void *state, const Ops *ops);
    // out (B,T,d) = FF(x (B,T,d)). params/grads: the model's whole buffers.
    void (*forward)(void *state, const Ops *ops, const FFConfig *c, const float *params,
                    const float *x, float *out);
    // dx (B,T,d) += d out/d x · dout; grads += parameter gradients.
    void (*backward)(void *state, const Ops *ops, const FFConfig *c, const float *params,
                     float *grads, const float *dout, float *dx);
    // This layer's auxiliary loss after forward (TC load balancing, before any
    // weighting), returned to the host; NULL for families without one. Its
    // gradient, weighted by cfg->aux_weight, is applied inside backward.
    double (*aux_loss)(void *state, const Ops *ops);
    void (*stats)(void *state, const Ops *ops, const FFConfig *c, FFStats *out);
} FFVTable;

struct FFLayer {
    const FFVTable *vt;
    FFConfig cfg;
    char prefix[48];
    void *state;
};

const FFVTable *ff_vtable(FFKind kind);
extern const FFVTable ff_dense_vtable, ff_mot_vtable, ff_ec_vtable, ff_tc_vtable;
