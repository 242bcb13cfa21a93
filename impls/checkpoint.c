// Checkpoints on top of impls/safetensors.c. Parameters and AdamW moments live on
// the model's device; they travel through one small host staging buffer, so saving
// a multi-GB model never needs a host copy of it.
#include "impls/checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "impls/model_config.h"
#include "impls/safetensors.h"
#include "kernels/base/error.h"
#include "kernels/common.h"

#define CHECKPOINT_VERSION "1"
#define OPTIM_M_PREFIX "optim.m."
#define OPTIM_V_PREFIX "optim.v."
// 4 MB: large enough for efficient I/O and device copies, small enough to ignore.
enum { STAGE_FLOATS = 1 << 20 };

// ---- ModelConfig <-> JSON ------------------------------------------------------
// One table drives serialisation, parsing and the "which field differs" check.

typedef enum { FIELD_NAME, FIELD_INT, FIELD_FLOAT, FIELD_FF_KIND } FieldType;
typedef struct {
    const char *key;
    FieldType type;
    size_t offset;
} ConfigField;

#define CONFIG_FIELD(type, member) {#member, type, offsetof(ModelConfig, member)}
static const ConfigField config_fields[] = {
    CONFIG_FIELD(FIELD_NAME, name),
    CONFIG_FIELD(FIELD_INT, vocab_size),
    CONFIG_FIELD(FIELD_INT, max_seq_len),
    CONFIG_FIELD(FIELD_INT, n_layers),
    CONFIG_FIELD(FIELD_INT, n_heads),
    CONFIG_FIELD(FIELD_INT, d_model),
    CONFIG_FIELD(FIELD_INT, d_ff),
    CONFIG_FIELD(FIELD_FF_KIND, moe_kind),
    CONFIG_FIELD(FIELD_INT, moe_first_layer),
    CONFIG_FIELD(FIELD_INT, n_experts),
    CONFIG_FIELD(FIELD_INT, expert_size),
    CONFIG_FIELD(FIELD_INT, group_size),
    CONFIG_FIELD(FIELD_FLOAT, temperature),
    CONFIG_FIELD(FIELD_INT, uniform_routing),
    CONFIG_FIELD(FIELD_INT, topk),
    CONFIG_FIELD(FIELD_FLOAT, capacity_factor),
    CONFIG_FIELD(FIELD_FLOAT, aux_alpha),
    CONFIG_FIELD(FIELD_FLOAT, peak_lr),
};
enum { N_CONFIG_FIELDS = sizeof(config_fields) / sizeof(config_fields[0]) };

#define FIELD_PTR(type, cfg, f) ((type *)((char *)(cfg) + (f)->offset))

// The shortest decimal that reads back as f, as a double: the JSON then shows
// 0.0007 rather than 0.000699999975 and still round-trips bit-exactly.
static double float_to_short_double(float f) {
    char buf[32];
    for (int digits = 6;; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f || digits == 9) return strtod(buf, NULL);
    }
}

// A field's value as text: for messages, and to compare two configs.
static void field_text(const ModelConfig *cfg, const ConfigField *f, char *out, size_t outlen) {
    switch (f->type) {
    case FIELD_NAME: snprintf(out, outlen, "\"%s\"", FIELD_PTR(const char, cfg, f)); break;
    case FIELD_INT: snprintf(out, outlen, "%d", *FIELD_PTR(const int, cfg, f)); break;
    case FIELD_FLOAT:
        snprintf(out, outlen, "%.9g", float_to_short_double(*FIELD_PTR(const float, cfg, f)));
        break;
    case FIELD_FF_KIND: {
        const FFVTable *family = ff_vtable(*FIELD_PTR(const FFKind, cfg, f));
        snprintf(out, outlen, "%s", family ? family->family : "?");
        break;
    }
    }
}

char *model_config_to_json(const ModelConfig *cfg) {
    json_t *obj = json_object();
    for (int i = 0; i < N_CONFIG_FIELDS; i++) {
        const ConfigField *f = &config_fields[i];
        json_t *v = NULL;
        switch (f->type) {
        case FIELD_NAME: v = json_string(FIELD_PTR(const char, cfg, f)); break;
        case FIELD_INT: v = json_integer(*FIELD_PTR(const int, cfg, f)); break;
        case FIELD_FLOAT:
            v = json_real(float_to_short_double(*FIELD_PTR(const float, cfg, f)));
            break;
        case FIELD_FF_KIND: {
            FFKind k = *FIELD_PTR(const FFKind, cfg, f);
            if (!ff_vtable(k)) die("model config: moe_kind %d out of range", (int)k);
            v = json_string(ff_vtable(k)->family);
            break;
        }
        }
        if (!v || json_object_set_new(obj, f->key, v))
            die("model config field %s cannot be written as JSON", f->key);
    }
    // 9 significant digits bring every float back exactly.
    char *text = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(obj);
    if (!text) die("out of memory serialising a model config");
    return text;
}

static int parse_field(const json_t *v, const ConfigField *f, ModelConfig *cfg, char *err,
                       size_t errlen) {
    switch (f->type) {
    case FIELD_NAME:
        if (!json_is_string(v) || json_string_length(v) >= MODEL_NAME_LEN)
            return errorf(err, errlen, "model config: field '%s' must be a string shorter than %d "
                          "bytes", f->key, MODEL_NAME_LEN);
        strcpy(FIELD_PTR(char, cfg, f), json_string_value(v));
        return 0;
    case FIELD_INT:
        if (!json_is_integer(v) || json_integer_value(v) < INT_MIN ||
            json_integer_value(v) > INT_MAX)
            return errorf(err, errlen, "model config: field '%s' must be an integer", f->key);
        *FIELD_PTR(int, cfg, f) = (int)json_integer_value(v);
        return 0;
    case FIELD_FLOAT:
        if (!json_is_number(v))
            return errorf(err, errlen, "model config: field '%s' must be a number", f->key);
        *FIELD_PTR(float, cfg, f) = (float)json_number_value(v);
        return 0;
    case FIELD_FF_KIND: {
        const FFVTable *family =
            json_is_string(v) ? ff_family_by_name(json_string_value(v), json_string_length(v))
                              : NULL;
        if (family) {
            *FIELD_PTR(FFKind, cfg, f) = family->kind;
            return 0;
        }
        char names[64];
        ff_family_list(names, sizeof names, 0);
        return errorf(err, errlen, "model config: field '%s' must be one of %s", f->key, names);
    }
    }
    return 0;
}

int model_config_from_json(const char *json, ModelConfig *cfg, char *err, size_t errlen) {
    memset(cfg, 0, sizeof(*cfg));
    json_error_t je;
    json_t *obj = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    int rc = 0;
    if (!obj)
        return errorf(err, errlen, "model config is not valid JSON (%s, at byte %d)", je.text,
                      je.position);
    if (!json_is_object(obj)) rc = errorf(err, errlen, "model config is not a JSON object");
    for (int i = 0; i < N_CONFIG_FIELDS && !rc; i++) {
        const json_t *v = json_object_get(obj, config_fields[i].key);
        rc = v ? parse_field(v, &config_fields[i], cfg, err, errlen)
               : errorf(err, errlen, "model config: missing field '%s'", config_fields[i].key);
    }
    // A field this build does not know would be silently ignored: refuse instead.
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        int known = 0;
        for (int i = 0; i < N_CONFIG_FIELDS; i++) known |= !strcmp(key, config_fields[i].key);
        if (!known && !rc)
            rc = errorf(err, errlen, "model config: unknown field '%s' (written by a newer "
                        "mot-bench?)", key);
    }
    json_decref(obj);
    return rc;
}

// 1 and a "d_ff is 2048 in the file, 1024 in the model" message when they differ.
static int config_differs(const ModelConfig *file, const ModelConfig *model, char *out,
                          size_t outlen) {
    for (int i = 0; i < N_CONFIG_FIELDS; i++) {
        char a[96], b[96];
        field_text(file, &config_fields[i], a, sizeof a);
        field_text(model, &config_fields[i], b, sizeof b);
        if (strcmp(a, b)) {
            snprintf(out, outlen, "%s is %s in the file, %s in the model", config_fields[i].key,
                     a, b);
            return 1;
        }
    }
    return 0;
}

// ---- metadata ------------------------------------------------------------------

static void format_rng(char *out, size_t outlen, const uint64_t rng[4]) {
    snprintf(out, outlen, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64, rng[0],
             rng[1], rng[2], rng[3]);
}

static int parse_rng(const char *text, uint64_t rng[4]) {
    for (int i = 0; i < 4; i++) {
        char *end;
        errno = 0;
        rng[i] = strtoull(text, &end, 16);
        if (end == text || errno || (*end != (i < 3 ? ' ' : '\0'))) return -1;
        text = end;
    }
    return 0;
}

static int parse_step(const char *text, long *step) {
    char *end;
    errno = 0;
    *step = strtol(text, &end, 10);
    return (end == text || *end || errno || *step < 0) ? -1 : 0;
}

// ---- tensors -------------------------------------------------------------------

// Floats of a numel-float tensor to move next, after done of them.
static size_t chunk_floats(size_t numel, size_t done) {
    return numel - done < STAGE_FLOATS ? numel - done : STAGE_FLOATS;
}

static void prefixed_name(char *out, size_t outlen, const char *prefix, const char *name) {
    snprintf(out, outlen, "%s%s", prefix, name);
}

static void param_shape(const ParamInfo *p, int64_t shape[PARAM_MAX_DIMS]) {
    for (int d = 0; d < p->ndim; d++) shape[d] = p->shape[d];
}

// Declare the table's tensors under prefix ("" for the parameters).
static void declare_tensors(StWriter *w, const ParamTable *pt, const char *prefix) {
    for (int i = 0; i < pt->count; i++) {
        char name[PARAM_NAME_LEN + 16];
        int64_t shape[PARAM_MAX_DIMS];
        prefixed_name(name, sizeof name, prefix, pt->items[i].name);
        param_shape(&pt->items[i], shape);
        st_writer_add_f32(w, name, pt->items[i].ndim, shape);
    }
}

// Stream one device buffer laid out as the table, tensor by tensor, into the file.
static int write_buffer(StWriter *w, const Ops *ops, const ParamTable *pt, const float *dev,
                        float *stage, char *err, size_t errlen) {
    for (int i = 0; i < pt->count; i++) {
        const ParamInfo *p = &pt->items[i];
        for (size_t done = 0; done < p->numel; done += STAGE_FLOATS) {
            size_t n = chunk_floats(p->numel, done);
            ops->to_host(stage, dev + p->offset + done, n * sizeof(float));
            if (st_writer_write(w, stage, n * sizeof(float), err, errlen)) return -1;
        }
    }
    return 0;
}

static int add_metadata(StWriter *w, const Model *m, const TrainState *ts, char *err,
                        size_t errlen) {
    char *config = model_config_to_json(&m->cfg);
    char step[32], rng[80];
    int rc = st_writer_add_metadata(w, "format", "pt", err, errlen) ||
             st_writer_add_metadata(w, "mot_bench_version", CHECKPOINT_VERSION, err, errlen) ||
             st_writer_add_metadata(w, "config", config, err, errlen) ||
             st_writer_add_metadata(w, "precision", precision_name(m->precision), err, errlen);
    free(config);
    if (rc || !ts) return rc ? -1 : 0;
    snprintf(step, sizeof step, "%ld", ts->step);
    format_rng(rng, sizeof rng, ts->data_rng);
    rc = st_writer_add_metadata(w, "step", step, err, errlen) ||
         st_writer_add_metadata(w, "data_rng", rng, err, errlen) ||
         (ts->train_json[0] && st_writer_add_metadata(w, "train", ts->train_json, err, errlen));
    return rc ? -1 : 0;
}

int checkpoint_save(const char *path, const Model *m, const TrainState *ts, char *err,
                    size_t errlen) {
    int with_optim = ts && ts->adam_m;
    if (ts && !ts->adam_m != !ts->adam_v)
        die("checkpoint_save: adam_m and adam_v must both be set or both NULL");
    StWriter w;
    st_writer_init(&w);
    char why[512];
    int rc = add_metadata(&w, m, ts, why, sizeof why);
    float *stage = NULL;
    if (!rc) {
        declare_tensors(&w, &m->table, "");
        if (with_optim) {
            declare_tensors(&w, &m->table, OPTIM_M_PREFIX);
            declare_tensors(&w, &m->table, OPTIM_V_PREFIX);
        }
        stage = mallocCheck(chunk_floats(m->table.total, 0) * sizeof(float));
        rc = st_writer_open(&w, path, why, sizeof why) ||
             write_buffer(&w, m->ops, &m->table, m->params, stage, why, sizeof why) ||
             (with_optim &&
              (write_buffer(&w, m->ops, &m->table, ts->adam_m, stage, why, sizeof why) ||
               write_buffer(&w, m->ops, &m->table, ts->adam_v, stage, why, sizeof why))) ||
             st_writer_commit(&w, why, sizeof why);
    }
    free(stage);
    st_writer_free(&w);
    return rc ? errorf(err, errlen, "saving checkpoint %s: %s", path, why) : 0;
}

// ---- loading -------------------------------------------------------------------

// Open, check it is one of ours, and parse the stored config.
static int open_checkpoint(StFile *sf, const char *path, ModelConfig *cfg, char *err,
                           size_t errlen) {
    if (st_open(sf, path, err, errlen)) return -1;
    const char *version = st_metadata(sf, "mot_bench_version");
    const char *config = st_metadata(sf, "config");
    char why[512];
    int rc = 0;
    if (!version || !config)
        rc = errorf(err, errlen, "%s: no mot_bench_version/config in __metadata__: not a "
                    "mot-bench checkpoint", path);
    else if (strcmp(version, CHECKPOINT_VERSION))
        rc = errorf(err, errlen, "%s: checkpoint format version %s; this build reads version %s",
                    path, version, CHECKPOINT_VERSION);
    else if (model_config_from_json(config, cfg, why, sizeof why) ||
             model_config_check(cfg, why, sizeof why))  // untrusted: check before any use
        rc = errorf(err, errlen, "%s: %s", path, why);
    if (rc) st_close(sf);
    return rc;
}

int checkpoint_read_config(const char *path, ModelConfig *cfg, char *err, size_t errlen) {
    StFile sf;
    if (open_checkpoint(&sf, path, cfg, err, errlen)) return -1;
    st_close(&sf);
    return 0;
}

// The file's tensor for p (under prefix), checked against the table's shape.
static const StTensor *expect_tensor(const StFile *sf, const char *prefix, const ParamInfo *p,
                                     char *err, size_t errlen) {
    char name[PARAM_NAME_LEN + 16];
    prefixed_name(name, sizeof name, prefix, p->name);
    const StTensor *t = st_find(sf, name);
    if (!t) {
        errorf(err, errlen, "%s: tensor '%s' is missing", sf->path, name);
        return NULL;
    }
    if (strcmp(t->dtype, "F32")) {
        errorf(err, errlen, "%s: tensor '%s' has dtype %s; expected F32", sf->path, name, t->dtype);
        return NULL;
    }
    int64_t shape[PARAM_MAX_DIMS];
    param_shape(p, shape);
    if (t->ndim != p->ndim || memcmp(t->shape, shape, (size_t)p->ndim * sizeof(int64_t))) {
        char in_file[128], in_model[128];
        st_format_shape(in_file, sizeof in_file, t->ndim, t->shape);
        st_format_shape(in_model, sizeof in_model, p->ndim, shape);
        errorf(err, errlen, "%s: tensor '%s' has shape %s in the file, %s in the model", sf->path,
               name, in_file, in_model);
        return NULL;
    }
    return t;
}

// Every tensor in the file must belong to the model (possibly as an optim moment).
static int check_no_strangers(const StFile *sf, const ParamTable *pt, const char *model_name,
                              char *err, size_t errlen) {
    for (int i = 0; i < sf->n_tensors; i++) {
        const char *name = sf->tensors[i].name;
        if (!strncmp(name, OPTIM_M_PREFIX, strlen(OPTIM_M_PREFIX)))
            name += strlen(OPTIM_M_PREFIX);
        else if (!strncmp(name, OPTIM_V_PREFIX, strlen(OPTIM_V_PREFIX)))
            name += strlen(OPTIM_V_PREFIX);
        if (param_find(pt, name) < 0)
            return errorf(err, errlen, "%s: tensor '%s' is not part of model %s", sf->path,
                          sf->tensors[i].name, model_name);
    }
    return 0;
}

// Resolve all tensors of one buffer (params or a moment) before any data moves,
// so a bad file leaves the model untouched.
static int resolve_tensors(const StFile *sf, const ParamTable *pt, const char *prefix,
                           const StTensor **out, char *err, size_t errlen) {
    for (int i = 0; i < pt->count; i++)
        if (!(out[i] = expect_tensor(sf, prefix, &pt->items[i], err, errlen))) return -1;
    return 0;
}

static int read_buffer(StFile *sf, const Ops *ops, const ParamTable *pt,
                       const StTensor *const *tensors, float *dev, float *stage, char *err,
                       size_t errlen) {
    for (int i = 0; i < pt->count; i++) {
        const ParamInfo *p = &pt->items[i];
        for (size_t done = 0; done < p->numel; done += STAGE_FLOATS) {
            size_t n = chunk_floats(p->numel, done);
            if (st_read(sf, tensors[i], done * sizeof(float), stage, n * sizeof(float), err,
                        errlen))
                return -1;
            ops->to_device(dev + p->offset + done, stage, n * sizeof(float));
        }
    }
    return 0;
}

// step, data_rng and train from the metadata into ts.
static int read_train_state(const StFile *sf, TrainState *ts, char *err, size_t errlen) {
    const char *step = st_metadata(sf, "step"), *rng = st_metadata(sf, "data_rng");
    const char *train = st_metadata(sf, "train");
    if (!step || !rng)
        return errorf(err, errlen, "%s: no step/data_rng in __metadata__: a weights-only "
                      "checkpoint cannot resume training", sf->path);
    if (parse_step(step, &ts->step))
        return errorf(err, errlen, "%s: metadata step \"%s\" is not a count", sf->path, step);
    if (parse_rng(rng, ts->data_rng))
        return errorf(err, errlen, "%s: metadata data_rng \"%s\" is not 4 hex numbers", sf->path,
                      rng);
    if (train && strlen(train) >= sizeof ts->train_json)
        return errorf(err, errlen, "%s: metadata train is %zu bytes (at most %zu)", sf->path,
                      strlen(train), sizeof ts->train_json - 1);
    snprintf(ts->train_json, sizeof ts->train_json, "%s", train ? train : "");
    return 0;
}

int checkpoint_load(const char *path, Model *m, TrainState *ts, char *err, size_t errlen) {
    StFile sf;
    ModelConfig file_cfg;
    if (ts && (!ts->adam_m || !ts->adam_v))
        die("checkpoint_load: ts->adam_m and ts->adam_v must be allocated");
    if (open_checkpoint(&sf, path, &file_cfg, err, errlen)) return -1;
    const ParamTable *pt = &m->table;
    const StTensor **tensors = callocCheck(3 * (size_t)pt->count + 1, sizeof(StTensor *));
    const StTensor **moment_m = tensors + pt->count, **moment_v = moment_m + pt->count;
    float *stage = NULL;
    char why[256];
    int rc = 0;
    if (config_differs(&file_cfg, &m->cfg, why, sizeof why))
        rc = errorf(err, errlen, "%s: checkpoint of a different model: %s", path, why);
    // Name the real problem rather than the first missing moment.
    if (!rc && ts && pt->count) {
        char first[PARAM_NAME_LEN + 16];
        prefixed_name(first, sizeof first, OPTIM_M_PREFIX, pt->items[0].name);
        if (!st_find(&sf, first))
            rc = errorf(err, errlen, "%s: no optimizer state (a weights-only checkpoint): it can "
                        "be evaluated or used to start a new run, not resumed", path);
    }
    if (!rc)
        rc = check_no_strangers(&sf, pt, m->cfg.name, err, errlen) ||
             resolve_tensors(&sf, pt, "", tensors, err, errlen) ||
             (ts && (resolve_tensors(&sf, pt, OPTIM_M_PREFIX, moment_m, err, errlen) ||
                     resolve_tensors(&sf, pt, OPTIM_V_PREFIX, moment_v, err, errlen) ||
                     read_train_state(&sf, ts, err, errlen)));
    if (!rc) {
        stage = mallocCheck(chunk_floats(pt->total, 0) * sizeof(float));
        rc = read_buffer(&sf, m->ops, pt, tensors, m->params, stage, err, errlen) ||
             (ts && (read_buffer(&sf, m->ops, pt, moment_m, ts->adam_m, stage, err, errlen) ||
                     read_buffer(&sf, m->ops, pt, moment_v, ts->adam_v, stage, err, errlen)));
    }
    free(stage);
    free(tensors);
    st_close(&sf);
    return rc ? -1 : 0;
}
