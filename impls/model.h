// A GPT of SPEC §1 with a pluggable FF per block: dense Transformer, MoT, EC or
// TC. Built from a ModelConfig (usually by name, impls/registry.c), runs on any
// Ops table, keeps parameters/gradients in one buffer each (impls/params.h).
#pragma once
#include <stdint.h>

#include "impls/ff.h"
#include "impls/params.h"
#include "kernels/ops.h"

enum { MODEL_MAX_LAYERS = 64, MODEL_NAME_LEN = 64 };

typedef struct {
    char name[MODEL_NAME_LEN];  // canonical name, e.g. "mot-medium/32e/16"
    int vocab_size;             // 50257
    int max_seq_len;            // 256
    int n_layers;
    int n_heads;
    int d_model;
    int d_ff;
    FFKind moe_kind;            // FF_DENSE for the plain Transformer
    int moe_first_layer;        // blocks >= this use moe_kind (later half by default)
    int n_experts;              // E
    int expert_size;            // es
    int group_size;             // G
    float temperature;          // MoT tau
    int uniform_routing;        // MoT ablation
    int topk;                   // EC
    float capacity_factor;      // TC
    float aux_alpha;            // TC
    float peak_lr;              // SPEC §3 default for this model
} ModelConfig;

typedef struct {
    ModelConfig cfg;
    const Ops *ops;
    Precision precision;
    ParamTable table;
    float *params;  // (table.total) device
    float *grads;   // (table.total) device
    FFLayer ff[MODEL_MAX_LAYERS];
    int B, T;       // batch shape the activations are sized for (0 = none yet)
    struct ModelActs *acts;  // activation buffers (model.c)
    int discrete_eval;  // MoT: argmax routing in forward passes (set any time)
} Model;

// Names: see impls/registry.c (model_config_by_name). Returns 0 or -1 with err set.
int model_config_by_name(const char *name, ModelConfig *out, char *err, size_t errlen);
// Print the list of known names, one per line.
void model_list_names(FILE *f);

// Build the parameter table (no memory yet).
void model_declare(const ModelConfig *cfg, ParamTable *pt);
size_t model_param_count(const ModelConfig *cfg);

// Allocate parameters and gradients on ops' device, initialise from seed.
// Returns 0, or -1 with err set.
int model_create(Model *m, const ModelConfig *cfg, const Ops *ops, Precision prec,
                 uint64_t seed, char *err, size_t errlen);
void model_free(Model *m);
// Size activation buffers for (B,T); 0 or -1 with err (e.g. B % G != 0).
int model_reserve(Model *m, int B, int T, char *err, size_t errlen);

// Forward + backward of one batch. tokens/targets (B,T) are HOST arrays (copied
// in). Gradients ACCUMULATE into m->grads (zero them with model_zero_grad).
// grad_scale multiplies the loss gradient (1/accumulation_steps). Returns the
// mean cross-entropy; *aux_out (may be NULL) gets the weighted aux loss.
double model_forward_backward(Model *m, const int *tokens, const int *targets,
                              float grad_scale, double *aux_out);
// Forward only: mean cross-entropy over targets >= 0.
double model_eval_loss(Model *m, const int *tokens, const int *targets);
// Forward only: per-position log-probability of targets (B,T) into host array.
void model_token_logprobs(Model *m, const int *tokens, const int *targets, float *logp);
void model_zero_grad(Model *m);
// Switch every MoE block to another family with the same tensors (MoT -> Token
// Choice for transition tuning: experts, controller -> router, all unchanged).
// Activations are re-sized for the current batch. 0, or -1 with err when the
// families' tensors differ.
int model_convert_family(Model *m, FFKind to, char *err, size_t errlen);
// MoT eval: pad a batch whose B is not a multiple of G instead of refusing it.
// Call before model_reserve; the layer configs are fixed from then on.
void model_set_eval_padding(Model *m, int pad);

// How the model's family treats the batch (FFVTable.coupling):
// rows of an eval batch must come in multiples of this (MoT/EC: G; otherwise 1);
int model_batch_multiple(const ModelConfig *c);
// 1 when a row's outputs do not depend on the other rows (dense), so filler rows
// are unnecessary; MoT/EC mix groups of rows and TC rows compete for capacity.
int model_rows_independent(const ModelConfig *c);
// The family a transition switches this model to (MoT -> TC), or -1 for none.
int model_transition_target(const ModelConfig *c);

// Per-layer router statistics of the last forward (zeros for dense layers).
void model_ff_stats(Model *m, FFStats *out /* n_layers */);

// FLOPs of one training step per token (forward+backward, 6N-style plus
// attention and routing terms); used for MFU.
double model_flops_per_token(const ModelConfig *cfg, int T);
