// The GPT of SPEC §1: token + position embedding, pre-LN blocks
// (x += attn(LN1(x)); x += ff(LN2(x))), no final LayerNorm, untied head.
// Every op goes through m->ops, so this file runs unchanged on CPU and CUDA.
#include "impls/model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "impls/linear.h"
#include "impls/model_config.h"
#include "kernels/common.h"

// Rows of logits materialised at once: bounds the (rows, V) buffer to ~1.6 GB.
enum { HEAD_CHUNK_ROWS = 8192 };

typedef struct {  // parameter offsets of one block
    size_t ln1_w, ln1_b, qkv_w, proj_w, ln2_w, ln2_b;
} BlockParams;

typedef struct {  // activations of one block, kept for backward
    float *ln1, *ln1_mean, *ln1_rstd;  // (N,C) (N) (N)
    float *qkv;                        // (N,3C)
    float *att;                        // (B,NH,T,T)
    float *atty;                       // (N,C) attention output before projection
    float *res2;                       // (N,C) residual after attention
    float *ln2, *ln2_mean, *ln2_rstd;  // (N,C) (N) (N)
    float *res3;                       // (N,C) residual after the FF (block output)
} BlockActs;

typedef struct ModelActs {
    BlockParams bp[MODEL_MAX_LAYERS];
    BlockActs ba[MODEL_MAX_LAYERS];
    size_t tok_emb, pos_emb, head;
    int *tokens, *targets;  // (N) device
    float *encoded;         // (N,C) block 0 input
    float *scratch;         // (N,C) attention projection / FF output
    float *logits;          // (chunk,V)
    float *losses;          // (N)
    float *dres;            // (N,C) gradient of the residual stream
    float *dln;             // (N,C) gradient at a LayerNorm output
    float *datty;           // (N,C)
    float *dqkv;            // (N,3C)
    int *host_targets;      // (N) last targets, to count valid positions
} Acts;

static int family_of_layer(const ModelConfig *c, int layer) {
    return layer >= c->moe_first_layer ? (int)c->moe_kind : FF_DENSE;
}

static FFConfig ff_config(const ModelConfig *c, int layer, Precision prec) {
    FFConfig f;
    memset(&f, 0, sizeof f);
    f.kind = (FFKind)family_of_layer(c, layer);
    f.d = c->d_model;
    f.dff = c->d_ff;
    f.n_experts = c->n_experts;
    f.expert_size = c->expert_size;
    f.group_size = c->group_size;
    f.temperature = c->temperature;
    f.uniform = c->uniform_routing;
    f.topk = c->topk;
    f.capacity_factor = c->capacity_factor;
    f.aux_alpha = c->aux_alpha;
    int n_moe = c->moe_kind == FF_DENSE ? 0 : c->n_layers - c->moe_first_layer;
    f.aux_weight = n_moe > 0 ? c->aux_alpha / (float)n_moe : 0.0f;
    f.precision = prec;
    return f;
}

static void block_prefix(char *out, size_t len, int layer, const char *rest) {
    snprintf(out, len, "blocks.%d.%s", layer, rest);
}

void model_declare(const ModelConfig *c, ParamTable *pt) {
    int C = c->d_model;
    char name[PARAM_NAME_LEN];
    // Embeddings: fan_in = 1 (SPEC §1), so std sqrt(0.1) cut at +-0.2.
    param_add(pt, "tok_emb.weight", INIT_TRUNC_NORMAL, init_std_for_fan_in(1), 2, c->vocab_size, C);
    param_add(pt, "pos_emb.weight", INIT_TRUNC_NORMAL, init_std_for_fan_in(1), 2, c->max_seq_len, C);
    for (int l = 0; l < c->n_layers; l++) {
        block_prefix(name, sizeof name, l, "ln1.weight");
        param_add(pt, name, INIT_ONES, 0, 1, C);
        block_prefix(name, sizeof name, l, "ln1.bias");
        param_add(pt, name, INIT_ZEROS, 0, 1, C);
        block_prefix(name, sizeof name, l, "attn.qkv.weight");
        param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(C), 2, 3 * C, C);
        block_prefix(name, sizeof name, l, "attn.proj.weight");
        param_add(pt, name, INIT_TRUNC_NORMAL, init_std_for_fan_in(C), 2, C, C);
        block_prefix(name, sizeof name, l, "ln2.weight");
        param_add(pt, name, INIT_ONES, 0, 1, C);
        block_prefix(name, sizeof name, l, "ln2.bias");
        param_add(pt, name, INIT_ZEROS, 0, 1, C);
        FFConfig f = ff_config(c, l, PREC_FP32);
        block_prefix(name, sizeof name, l, "ff");
        ff_vtable(f.kind)->declare(&f, name, pt);
    }
    param_add(pt, "head.weight", INIT_TRUNC_NORMAL, init_std_for_fan_in(C), 2, c->vocab_size, C);
}

size_t model_param_count(const ModelConfig *cfg) {
    ParamTable pt;
    param_table_init(&pt);
    model_declare(cfg, &pt);
    size_t n = pt.total;
    param_table_free(&pt);
    return n;
}

int model_create(Model *m, const ModelConfig *cfg, const Ops *ops, Precision prec,
                 uint64_t seed, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (model_config_check(cfg, err, errlen)) return -1;
    m->cfg = *cfg;
    m->ops = ops;
    m->precision = prec;
    param_table_init(&m->table);
    model_declare(cfg, &m->table);
    size_t bytes = m->table.total * sizeof(float);
    float *host = mallocCheck(bytes);
    param_init_host(&m->table, host, seed);
    if (precision_bf16_state(prec))  // parameters live in bf16 from the start
        for (size_t i = 0; i < m->table.total; i++) host[i] = round_bf16(host[i]);
    m->params = ops->alloc(bytes);
    m->grads = ops->alloc(bytes);
    ops->to_device(m->params, host, bytes);
    free(host);
    for (int l = 0; l < cfg->n_layers; l++) {
        m->ff[l].cfg = ff_config(cfg, l, prec);
        m->ff[l].vt = ff_vtable(m->ff[l].cfg.kind);
        block_prefix(m->ff[l].prefix, sizeof m->ff[l].prefix, l, "ff");
    }
    return 0;
}

static void acts_free(Model *m) {
    Acts *a = m->acts;
    if (!a) return;
    const Ops *ops = m->ops;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        BlockActs *b = &a->ba[l];
        float *bufs[] = {b->ln1, b->ln1_mean, b->ln1_rstd, b->qkv, b->att, b->atty,
                         b->res2, b->ln2, b->ln2_mean, b->ln2_rstd, b->res3};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ops->free(bufs[i]);
        if (m->ff[l].state) m->ff[l].vt->destroy(m->ff[l].state, ops);
        m->ff[l].state = NULL;
    }
    float *bufs[] = {a->encoded, a->scratch, a->logits, a->losses, a->dres, a->dln, a->datty, a->dqkv};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) ops->free(bufs[i]);
    ops->free(a->tokens);
    ops->free(a->targets);
    free(a->host_targets);
    free(a);
    m->acts = NULL;
    m->B = m->T = 0;
}

void model_free(Model *m) {
    acts_free(m);
    if (m->ops) {
        m->ops->free(m->params);
        m->ops->free(m->grads);
    }
    param_table_free(&m->table);
    memset(m, 0, sizeof *m);
}

static int head_chunk(int N) { return N < HEAD_CHUNK_ROWS ? N : HEAD_CHUNK_ROWS; }

int model_reserve(Model *m, int B, int T, char *err, size_t errlen) {
    if (m->acts && m->B == B && m->T == T) return 0;
    if (B < 1 || T < 1 || T > m->cfg.max_seq_len) {
        snprintf(err, errlen, "batch %dx%d invalid for %s (need B >= 1 and 1 <= T <= %d)", B, T,
                 m->cfg.name, m->cfg.max_seq_len);
        return -1;
    }
    acts_free(m);
    const Ops *ops = m->ops;
    const ModelConfig *c = &m->cfg;
    size_t N = (size_t)B * T, C = c->d_model, NH = c->n_heads, F = sizeof(float);
    Acts *a = callocCheck(1, sizeof(Acts));
    m->acts = a;
    m->B = B;
    m->T = T;
    char name[PARAM_NAME_LEN];
    a->tok_emb = param_offset(&m->table, "tok_emb.weight");
    a->pos_emb = param_offset(&m->table, "pos_emb.weight");
    a->head = param_offset(&m->table, "head.weight");
    for (int l = 0; l < c->n_layers; l++) {
        BlockParams *p = &a->bp[l];
        const char *fields[] = {"ln1.weight", "ln1.bias", "attn.qkv.weight", "attn.proj.weight", "ln2.weight", "ln2.bias"};
        size_t *dst[] = {&p->ln1_w, &p->ln1_b, &p->qkv_w, &p->proj_w, &p->ln2_w, &p->ln2_b};
        for (int i = 0; i < 6; i++) {
            block_prefix(name, sizeof name, l, fields[i]);
            *dst[i] = param_offset(&m->table, name);
        }
        BlockActs *b = &a->ba[l];
        b->ln1 = ops->alloc(N * C * F);
        b->ln1_mean = ops->alloc(N * F);
        b->ln1_rstd = ops->alloc(N * F);
        b->qkv = ops->alloc(3 * N * C * F);
        b->att = ops->alloc((size_t)B * NH * T * T * F);
        b->atty = ops->alloc(N * C * F);
        b->res2 = ops->alloc(N * C * F);
        b->ln2 = ops->alloc(N * C * F);
        b->ln2_mean = ops->alloc(N * F);
        b->ln2_rstd = ops->alloc(N * F);
        b->res3 = ops->alloc(N * C * F);
        FFLayer *ff = &m->ff[l];
        ff->state = ff->vt->create(&ff->cfg, ops, &m->table, ff->prefix, B, T, err, errlen);
        if (!ff->state) {
            acts_free(m);
            return -1;
        }
    }
    a->tokens = ops->alloc(N * sizeof(int));
    a->targets = ops->alloc(N * sizeof(int));
    a->host_targets = mallocCheck(N * sizeof(int));
    a->encoded = ops->alloc(N * C * F);
    a->scratch = ops->alloc(N * C * F);
    a->logits = ops->alloc((size_t)head_chunk((int)N) * c->vocab_size * F);
    a->losses = ops->alloc(N * F);
    a->dres = ops->alloc(N * C * F);
    a->dln = ops->alloc(N * C * F);
    a->datty = ops->alloc(N * C * F);
    a->dqkv = ops->alloc(3 * N * C * F);
    return 0;
}

static void upload_batch(Model *m, const int *tokens, const int *targets) {
    Acts *a = m->acts;
    size_t N = (size_t)m->B * m->T;
    // An id past the vocabulary would make the embedding lookup read outside its
    // table (on the GPU, silently): stop here, on the host, once per batch.
    char why[256];
    if (model_check_tokens(&m->cfg, tokens, targets, N, why, sizeof why)) die("%s", why);
    m->ops->to_device(a->tokens, tokens, N * sizeof(int));
    m->ops->to_device(a->targets, targets, N * sizeof(int));
    memcpy(a->host_targets, targets, N * sizeof(int));
}

// Forward through the blocks; leaves the final residual stream in the last
// block's res3 and returns it. // (N,C)
static const float *forward_blocks(Model *m) {
    Acts *a = m->acts;
    const Ops *ops = m->ops;
    const ModelConfig *c = &m->cfg;
    const float *P = m->params;
    int B = m->B, T = m->T, C = c->d_model, NH = c->n_heads, N = B * T;
    int bf16 = precision_bf16_products(m->precision);
    const FFCall call = {.discrete = m->discrete_eval, .grad_scale = 1.0f};
    ops->encoder_forward(a->encoded, a->tokens, P + a->tok_emb, P + a->pos_emb, B, T, C);
    const float *x = a->encoded;
    for (int l = 0; l < c->n_layers; l++) {
        BlockParams *p = &a->bp[l];
        BlockActs *b = &a->ba[l];
        ops->layernorm_forward(b->ln1, b->ln1_mean, b->ln1_rstd, x, P + p->ln1_w, P + p->ln1_b, N, C);
        linear_forward(ops, b->qkv, b->ln1, P + p->qkv_w, NULL, N, C, 3 * C, bf16);
        ops->attention_forward(b->atty, b->att, b->qkv, B, T, C, NH, bf16);
        linear_forward(ops, a->scratch, b->atty, P + p->proj_w, NULL, N, C, C, bf16);
        ops->copy(b->res2, x, (size_t)N * C * sizeof(float));
        ops->axpy(b->res2, 1.0f, a->scratch, (size_t)N * C);
        ops->layernorm_forward(b->ln2, b->ln2_mean, b->ln2_rstd, b->res2, P + p->ln2_w, P + p->ln2_b, N, C);
        FFLayer *ff = &m->ff[l];
        ff->vt->forward(ff->state, ops, &ff->cfg, &call, P, b->ln2, a->scratch);
        ops->copy(b->res3, b->res2, (size_t)N * C * sizeof(float));
        ops->axpy(b->res3, 1.0f, a->scratch, (size_t)N * C);
        x = b->res3;
    }
    return x;
}

static int count_valid(const int *targets, int N) {
    int n = 0;
    for (int i = 0; i < N; i++) n += targets[i] >= 0;
    return n;
}

// LM head + cross-entropy over row chunks. With dscale != 0 also backward:
// dres (N,C) += dlogits·head, grads.head += dlogitsᵀ·x.
static void head_forward_backward(Model *m, const float *x, float dscale) {
    Acts *a = m->acts;
    const Ops *ops = m->ops;
    int N = m->B * m->T, C = m->cfg.d_model, V = m->cfg.vocab_size;
    int bf16 = precision_bf16_products(m->precision);
    int chunk = head_chunk(N);
    for (int r = 0; r < N; r += chunk) {
        int rows = N - r < chunk ? N - r : chunk;
        const float *xr = x + (size_t)r * C;
        linear_forward(ops, a->logits, xr, m->params + a->head, NULL, rows, C, V, bf16);
        ops->softmax_xent(a->losses + r, a->logits, a->targets + r, rows, V, dscale);
        if (dscale != 0.0f)
            linear_backward(ops, a->dres + (size_t)r * C, m->grads + a->head, NULL, a->logits, xr,
                            m->params + a->head, rows, C, V, bf16);
    }
}

static double mean_loss(Model *m) {
    int N = m->B * m->T;
    int valid = count_valid(m->acts->host_targets, N);
    return valid ? m->ops->sum(m->acts->losses, (size_t)N) / valid : 0.0;
}

// grad_scale: the loss gradient's scale, applied to the FF aux-loss gradients too.
static void backward_blocks(Model *m, float grad_scale) {
    Acts *a = m->acts;
    const Ops *ops = m->ops;
    const ModelConfig *c = &m->cfg;
    const float *P = m->params;
    float *G = m->grads;
    int B = m->B, T = m->T, C = c->d_model, NH = c->n_heads, N = B * T;
    int bf16 = precision_bf16_products(m->precision);
    const FFCall call = {.discrete = m->discrete_eval, .grad_scale = grad_scale};
    size_t NC = (size_t)N * C;
    for (int l = c->n_layers - 1; l >= 0; l--) {
        BlockParams *p = &a->bp[l];
        BlockActs *b = &a->ba[l];
        const float *x = l ? a->ba[l - 1].res3 : a->encoded;
        // dres holds dL/dres3; the FF branch adds its path to dL/dres2.
        FFLayer *ff = &m->ff[l];
        ops->zero(a->dln, NC * sizeof(float));
        ff->vt->backward(ff->state, ops, &ff->cfg, &call, P, G, a->dres, a->dln);
        ops->layernorm_backward(a->dres, G + p->ln2_w, G + p->ln2_b, a->dln, b->res2, P + p->ln2_w,
                                b->ln2_mean, b->ln2_rstd, N, C);
        // dres now holds dL/dres2; the attention branch adds its path to dL/dx.
        ops->zero(a->datty, NC * sizeof(float));
        ops->zero(a->dqkv, 3 * NC * sizeof(float));
        ops->zero(a->dln, NC * sizeof(float));
        linear_backward(ops, a->datty, G + p->proj_w, NULL, a->dres, b->atty, P + p->proj_w, N, C, C, bf16);
        ops->attention_backward(a->dqkv, a->datty, b->qkv, b->att, B, T, C, NH, bf16);
        linear_backward(ops, a->dln, G + p->qkv_w, NULL, a->dqkv, b->ln1, P + p->qkv_w, N, C, 3 * C, bf16);
        ops->layernorm_backward(a->dres, G + p->ln1_w, G + p->ln1_b, a->dln, x, P + p->ln1_w,
                                b->ln1_mean, b->ln1_rstd, N, C);
    }
    ops->encoder_backward(G + a->tok_emb, G + a->pos_emb, a->dres, a->tokens, B, T, C);
}

static double aux_loss_weighted(Model *m) {
    double aux = 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        FFLayer *ff = &m->ff[l];
        if (ff->vt->aux_loss) aux += ff->cfg.aux_weight * ff->vt->aux_loss(ff->state, m->ops);
    }
    return aux;
}

double model_forward_backward(Model *m, const int *tokens, const int *targets, float grad_scale,
                              double *aux_out) {
    upload_batch(m, tokens, targets);
    int N = m->B * m->T;
    int valid = count_valid(targets, N);
    const float *x = forward_blocks(m);
    m->ops->zero(m->acts->dres, (size_t)N * m->cfg.d_model * sizeof(float));
    head_forward_backward(m, x, valid ? grad_scale / (float)valid : 0.0f);
    double loss = mean_loss(m);
    if (aux_out) *aux_out = aux_loss_weighted(m);
    backward_blocks(m, grad_scale);  // aux gradients inside each FF, scaled like the loss
    return loss;
}

double model_eval_loss(Model *m, const int *tokens, const int *targets) {
    upload_batch(m, tokens, targets);
    head_forward_backward(m, forward_blocks(m), 0.0f);
    return mean_loss(m);
}

void model_token_logprobs(Model *m, const int *tokens, const int *targets, float *logp) {
    upload_batch(m, tokens, targets);
    head_forward_backward(m, forward_blocks(m), 0.0f);
    size_t N = (size_t)m->B * m->T;
    m->ops->to_host(logp, m->acts->losses, N * sizeof(float));
    for (size_t i = 0; i < N; i++) logp[i] = targets[i] >= 0 ? -logp[i] : 0.0f;
}

int model_convert_family(Model *m, FFKind to, char *err, size_t errlen) {
    ModelConfig next = m->cfg;
    next.moe_kind = to;
    ParamTable pt;
    param_table_init(&pt);
    model_declare(&next, &pt);
    int same = pt.count == m->table.count;
    for (int i = 0; same && i < pt.count; i++) {
        const ParamInfo *a = &pt.items[i], *b = &m->table.items[i];
        same = !strcmp(a->name, b->name) && a->ndim == b->ndim && a->numel == b->numel &&
               !memcmp(a->shape, b->shape, sizeof a->shape);
    }
    param_table_free(&pt);
    if (!same) {
        snprintf(err, errlen, "cannot convert %s from %s to %s: the tensors differ", m->cfg.name,
                 ff_vtable(m->cfg.moe_kind)->family, ff_vtable(to)->family);
        return -1;
    }
    int B = m->B, T = m->T;
    acts_free(m);
    m->cfg = next;
    for (int l = 0; l < next.n_layers; l++) {
        m->ff[l].cfg = ff_config(&next, l, m->precision);
        m->ff[l].vt = ff_vtable(m->ff[l].cfg.kind);
    }
    return B ? model_reserve(m, B, T, err, errlen) : 0;
}

void model_zero_grad(Model *m) { m->ops->zero(m->grads, m->table.total * sizeof(float)); }

void model_set_eval_padding(Model *m, int pad) {
    if (m->acts) die("model_set_eval_padding after model_reserve: the layers are built");
    for (int l = 0; l < m->cfg.n_layers; l++) m->ff[l].cfg.allow_pad = pad;
}

// The MoE family; its FFVTable describes how it treats the batch.
static const FFVTable *moe_family(const ModelConfig *c) {
    const FFVTable *f = ff_vtable(c->moe_kind);
    if (!f) die("model %s: moe_kind %d is no family", c->name, (int)c->moe_kind);
    return f;
}

int model_batch_multiple(const ModelConfig *c) {
    int grouped = moe_family(c)->coupling == FF_ROWS_GROUPED && c->group_size > 1;
    return grouped ? c->group_size : 1;
}

int model_rows_independent(const ModelConfig *c) {
    return moe_family(c)->coupling == FF_ROWS_INDEPENDENT;
}

int model_transition_target(const ModelConfig *c) { return moe_family(c)->converts_to; }

void model_ff_stats(Model *m, FFStats *out) {
    for (int l = 0; l < m->cfg.n_layers; l++) {
        memset(&out[l], 0, sizeof out[l]);
        FFLayer *ff = &m->ff[l];
        if (ff->vt->stats && ff->state) ff->vt->stats(ff->state, m->ops, &ff->cfg, &out[l]);
    }
}

double model_flops_per_token(const ModelConfig *c, int T) {
    // Forward multiply-adds per token, x2 for FLOPs, x3 for forward+backward.
    double d = c->d_model, L = c->n_layers, moe_layers = c->moe_kind == FF_DENSE ? 0 : L - c->moe_first_layer;
    double attn = 4 * d * d + 2 * (double)T * d;  // qkv+proj, QK^T and AV (full T, not halved)
    double ff = 2 * d * c->d_ff;                  // every family: each token costs one full FF
    const FFVTable *family = ff_vtable(c->moe_kind);
    double routing = family ? family->routing_macs_per_expert_width * c->n_experts * d : 0;
    double head = d * c->vocab_size;
    return 6.0 * (L * (attn + ff) + moe_layers * routing + head);
}
