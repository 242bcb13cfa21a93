// The feed-forward slot of a Transformer block: dense FF, Mixture of Tokens,
// Expert Choice or Token Choice. Each family is one FFVTable (impls/ff_<family>.c):
// what it is called, what it costs, how it treats the batch, and its functions.
// impls/family.c lists them by FFKind; model.c holds one FFLayer per block and
// knows nothing about routing.
#pragma once
#include <stdio.h>

#include "impls/params.h"
#include "kernels/ops.h"

// Stored in checkpoints by name (FFVTable.family), never by number.
typedef enum { FF_DENSE = 0, FF_MOT, FF_EC, FF_TC } FFKind;
enum { N_FF_KINDS = FF_TC + 1 };  // the last kind + 1 (outside the enum: switches stay exhaustive)

// The model's FF configuration, fixed once the model is built. What changes from
// call to call (eval routing, the step's gradient scale) travels in FFCall.
typedef struct {
    FFKind kind;
    int d;                  // model width
    int dff;                // dense hidden width (an expert of "full size")
    int n_experts;          // E
    int expert_size;        // es = dff * G / E for MoT
    int group_size;         // G (MoT, EC)
    float temperature;      // MoT softmax temperature tau (1.0)
    int uniform;            // MoT ablation: all merge weights 1/G
    int allow_pad;          // MoT eval only: pad a batch not divisible by G (read
                            // when activations are created: model_set_eval_padding)
    int topk;               // EC tokens per expert per group (k)
    float capacity_factor;  // TC (1.25)
    float aux_alpha;        // TC load-balancing weight alpha (0.01)
    float aux_weight;       // set by the model: alpha / number of MoE layers, the
                            // weight of this layer's aux term in the total loss
    Precision precision;    // ask kernels/precision.h what it means
} FFConfig;

// Per-call choices: they differ between training and eval, and between steps.
typedef struct {
    int discrete;      // MoT eval: argmax one-hot over the group instead of softmax
    float grad_scale;  // backward: scales the aux-loss gradient like the loss gradient
                       // (1/accumulation steps), so aux_weight itself never changes
} FFCall;

// Per-layer numbers a researcher checks when a run looks wrong; filled at eval.
typedef struct {
    double router_entropy;   // normalised to [0,1] (MoT: merge-weight entropy over G)
    double dropped_fraction; // TC
    double load_max_over_mean;  // TC/EC expert load imbalance
    double aux_loss;         // TC load-balancing term of this layer (unscaled by alpha)
} FFStats;

typedef struct FFLayer FFLayer;

// How a family's tokens depend on other rows of the batch: decides how eval
// batches are shaped and whether filler rows change a row's result.
typedef enum {
    FF_ROWS_INDEPENDENT,  // each token alone (dense)
    FF_ROWS_GROUPED,      // G same-position tokens of consecutive rows routed together
                          // (MoT, EC): B must be a multiple of group_size
    FF_ROWS_COMPETE,      // tokens compete for expert capacity across the batch (TC)
} FFBatchCoupling;

typedef struct {
    // ---- what the family is (one place; impls/family.c lists the families)
    FFKind kind;
    const char *family;       // "dense", "mot", "ec", "tc": checkpoints, CSVs, plots
    const char *name_prefix;  // registry names "<prefix>-SIZE...", e.g. "transformer"
    // Forward multiply-adds per token of routing, in units of n_experts * d_model,
    // per MoE layer (MoT 3: controller, merge, emit; EC/TC 1: router). FLOPs/MFU.
    double routing_macs_per_expert_width;
    FFBatchCoupling coupling;
    int converts_to;          // FFKind with the same tensors a transition switches
                              // to (MoT -> TC, SPEC §2), or -1
    // ---- its functions
    // Register this layer's tensors under prefix (e.g. "blocks.5.ff").
    void (*declare)(const FFConfig *c, const char *prefix, ParamTable *pt);
    // Allocate activation buffers for a (B,T) batch on ops' device. Returns NULL
    // and writes err when the config cannot run (e.g. B not divisible by G).
    void *(*create)(const FFConfig *c, const Ops *ops, const ParamTable *pt,
                    const char *prefix, int B, int T, char *err, size_t errlen);
    void (*destroy)(void *state, const Ops *ops);
    // out (B,T,d) = FF(x (B,T,d)). params/grads: the model's whole buffers.
    void (*forward)(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                    const float *params, const float *x, float *out);
    // dx (B,T,d) += d out/d x · dout; grads += parameter gradients.
    void (*backward)(void *state, const Ops *ops, const FFConfig *c, const FFCall *call,
                     const float *params, float *grads, const float *dout, float *dx);
    // This layer's auxiliary loss after forward (TC load balancing, before any
    // weighting), returned to the host; NULL for families without one. Its
    // gradient, weighted by cfg->aux_weight * call->grad_scale, is applied inside
    // backward.
    double (*aux_loss)(void *state, const Ops *ops);
    void (*stats)(void *state, const Ops *ops, const FFConfig *c, FFStats *out);
} FFVTable;

struct FFLayer {
    const FFVTable *vt;
    FFConfig cfg;
    char prefix[48];
    void *state;
};

extern const FFVTable ff_dense_vtable, ff_mot_vtable, ff_ec_vtable, ff_tc_vtable;

// ---- the family table (impls/family.c) ----------------------------------------
// The family of kind; NULL when kind is out of range (an untrusted number).
const FFVTable *ff_vtable(FFKind kind);
// By FFVTable.family ("mot") or by registry prefix ("transformer"), n bytes long;
// NULL when unknown.
const FFVTable *ff_family_by_name(const char *name, size_t n);
const FFVTable *ff_family_by_prefix(const char *prefix, size_t n);
// The valid values for an error message: "dense, mot, ec or tc", or with
// by_prefix the registry prefixes "transformer, mot, ec or tc".
void ff_family_list(char *out, size_t outlen, int by_prefix);
