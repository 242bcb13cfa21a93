#include "impls/model_config.h"

#include <math.h>
#include <stdio.h>

// Upper bounds far above any model of the paper (GPT-2 vocabulary 50257, d_model
// 768, d_ff 3072, 256 experts), low enough that every tensor's element count and
// byte size fits in 64 bits (the largest, E*d*es, is below 2^52).
enum {
    MAX_VOCAB = 1 << 22,
    MAX_SEQ_LEN = 1 << 16,
    MAX_WIDTH = 1 << 16,   // d_model, n_heads, n_experts, group_size, topk
    MAX_HIDDEN = 1 << 20,  // d_ff, expert_size
};

#define KIND_BIT(k) (1u << (k))
#define EVERY_KIND (KIND_BIT(FF_DENSE) | KIND_BIT(FF_MOT) | KIND_BIT(FF_EC) | KIND_BIT(FF_TC))
#define ROUTED_KINDS (KIND_BIT(FF_MOT) | KIND_BIT(FF_EC) | KIND_BIT(FF_TC))

// A field is needed by the families in needed_by (the model's moe_kind): there it
// must be at least min_needed. A family that ignores the field still requires it in
// [0, max]: a stored config has no business holding a negative, NaN or huge value.
typedef struct {
    const char *key;
    size_t offset;
    double min_needed, max;
    unsigned needed_by;
    int is_float;
} FieldRange;

#define INT_RANGE(member, max, kinds) {#member, offsetof(ModelConfig, member), 1, max, kinds, 0}
#define FLOAT_RANGE(member, min, max, kinds) \
    {#member, offsetof(ModelConfig, member), min, max, kinds, 1}
static const FieldRange field_ranges[] = {
    INT_RANGE(vocab_size, MAX_VOCAB, EVERY_KIND),
    INT_RANGE(max_seq_len, MAX_SEQ_LEN, EVERY_KIND),
    INT_RANGE(n_layers, MODEL_MAX_LAYERS, EVERY_KIND),
    INT_RANGE(d_model, MAX_WIDTH, EVERY_KIND),
    INT_RANGE(n_heads, MAX_WIDTH, EVERY_KIND),
    INT_RANGE(d_ff, MAX_HIDDEN, EVERY_KIND),
    INT_RANGE(n_experts, MAX_WIDTH, ROUTED_KINDS),
    INT_RANGE(expert_size, MAX_HIDDEN, ROUTED_KINDS),
    INT_RANGE(group_size, MAX_WIDTH, KIND_BIT(FF_MOT) | KIND_BIT(FF_EC)),
    INT_RANGE(topk, MAX_WIDTH, KIND_BIT(FF_EC)),
    INT_RANGE(uniform_routing, 1, 0),
    // MoT divides router logits by the temperature: far below 1e-4 they overflow
    // to inf and the mixing weights turn NaN.
    FLOAT_RANGE(temperature, 1e-4, 1e4, KIND_BIT(FF_MOT)),
    // The TC capacity floor(cf*N/E) must stay a modest int.
    FLOAT_RANGE(capacity_factor, 1e-6, 1e4, KIND_BIT(FF_TC)),
    FLOAT_RANGE(aux_alpha, 0, 1e4, 0),
    FLOAT_RANGE(peak_lr, 0, 1, 0),  // only the default learning rate
};

static double field_value(const ModelConfig *c, const FieldRange *f) {
    const char *p = (const char *)c + f->offset;
    return f->is_float ? (double)*(const float *)p : (double)*(const int *)p;
}

static int check_field(const ModelConfig *c, const FieldRange *f, char *err, size_t errlen) {
    int needed = (f->needed_by & KIND_BIT(c->moe_kind)) != 0;
    double v = field_value(c, f), lo = needed ? f->min_needed : 0;
    if (isfinite(v) && v >= lo && v <= f->max) return 0;
    char value[32], range[64];
    if (f->is_float) {
        snprintf(value, sizeof value, "%.9g", v);
        snprintf(range, sizeof range, "%g..%g", lo, f->max);
    } else {
        snprintf(value, sizeof value, "%.0f", v);
        snprintf(range, sizeof range, "%.0f..%.0f", lo, f->max);
    }
    snprintf(err, errlen, "model %s: %s = %s is outside the valid range %s%s%s%s", c->name,
             f->key, value, range, needed ? " (for " : "",
             needed ? ff_vtable(c->moe_kind)->family : "", needed ? " blocks)" : "");
    return -1;
}

// Ranges that depend on other fields.
static int check_relations(const ModelConfig *c, char *err, size_t errlen) {
    if (c->d_model % c->n_heads)
        snprintf(err, errlen, "model %s: d_model=%d not divisible by n_heads=%d", c->name,
                 c->d_model, c->n_heads);
    else if (c->moe_first_layer < 0 || c->moe_first_layer > c->n_layers)
        snprintf(err, errlen, "model %s: first MoE block %d outside 0..%d", c->name,
                 c->moe_first_layer, c->n_layers);
    else if (c->moe_kind == FF_EC && c->topk > c->group_size)
        snprintf(err, errlen, "model %s: topk = %d is outside the valid range 1..%d (the "
                 "group size) for ec blocks", c->name, c->topk, c->group_size);
    else
        return 0;
    return -1;
}

int model_config_check(const ModelConfig *c, char *err, size_t errlen) {
    if (!ff_vtable(c->moe_kind)) {
        snprintf(err, errlen, "model %s: moe_kind = %d is not a family", c->name,
                 (int)c->moe_kind);
        return -1;
    }
    for (size_t i = 0; i < sizeof field_ranges / sizeof field_ranges[0]; i++)
        if (check_field(c, &field_ranges[i], err, errlen)) return -1;
    return check_relations(c, err, errlen);
}

static int bad_id(const ModelConfig *c, const char *what, int id, size_t pos, char *err,
                  size_t errlen) {
    snprintf(err, errlen, "model %s: %s id %d at batch position %zu is outside its vocabulary "
             "0..%d: the data was tokenized with a larger vocabulary than the model (or "
             "checkpoint) has", c->name, what, id, pos, c->vocab_size - 1);
    return -1;
}

int model_check_tokens(const ModelConfig *c, const int *tokens, const int *targets, size_t n,
                       char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= c->vocab_size)
            return bad_id(c, "token", tokens[i], i, err, errlen);
        if (targets[i] >= c->vocab_size)  // negative targets are ignored positions
            return bad_id(c, "target", targets[i], i, err, errlen);
    }
    return 0;
}
