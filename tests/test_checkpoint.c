// Checkpoints (impls/checkpoint.c on impls/safetensors.c): bit-exact round trips,
// the on-disk layout parsed independently, every kind of damaged or mismatched
// file rejected with a message that names it, and atomic replacement on failure.
#include <glob.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "impls/checkpoint.h"
#include "kernels/common.h"
#include "tests/testutil.h"

// ---- a hand-built model ---------------------------------------------------------

// Variants of the tensor table, to load a file into a model it does not fit.
typedef enum { TABLE_SAME, TABLE_ROUTER_TRANSPOSED, TABLE_EXTRA_TENSOR, TABLE_NO_HEAD } TableKind;

static ModelConfig tiny_config(int vocab, int d) {
    ModelConfig c;
    memset(&c, 0, sizeof c);  // configs are compared with memcmp
    snprintf(c.name, sizeof c.name, "test-mot/4e");
    c.vocab_size = vocab;
    c.max_seq_len = 6;
    c.n_layers = 2;
    c.n_heads = 2;
    c.d_model = d;
    c.d_ff = 2 * d;
    c.moe_kind = FF_MOT;
    c.moe_first_layer = 1;
    c.n_experts = 4;
    c.expert_size = 3;
    c.group_size = 2;
    c.temperature = 1.0f;
    c.topk = 1;
    c.capacity_factor = 1.25f;
    c.aux_alpha = 0.01f;
    c.peak_lr = 7e-4f;
    return c;
}

// A few tensors with SPEC §8 names and shapes: block 0 dense, block 1 MoT.
static void tiny_table(const ModelConfig *c, TableKind kind, ParamTable *pt) {
    int V = c->vocab_size, d = c->d_model, E = c->n_experts, es = c->expert_size;
    param_table_init(pt);
    param_add(pt, "tok_emb.weight", INIT_ZEROS, 0, 2, V, d);
    param_add(pt, "pos_emb.weight", INIT_ZEROS, 0, 2, c->max_seq_len, d);
    param_add(pt, "blocks.0.ln1.weight", INIT_ZEROS, 0, 1, d);
    param_add(pt, "blocks.0.attn.qkv.weight", INIT_ZEROS, 0, 2, 3 * d, d);
    param_add(pt, "blocks.0.ff.lin1.weight", INIT_ZEROS, 0, 2, c->d_ff, d);
    param_add(pt, "blocks.0.ff.lin1.bias", INIT_ZEROS, 0, 1, c->d_ff);
    param_add(pt, "blocks.1.ff.lin1", INIT_ZEROS, 0, 3, E, d, es);
    param_add(pt, "blocks.1.ff.lin2", INIT_ZEROS, 0, 3, E, es, d);
    if (kind == TABLE_ROUTER_TRANSPOSED)
        param_add(pt, "blocks.1.ff.router", INIT_ZEROS, 0, 2, E, d);
    else
        param_add(pt, "blocks.1.ff.router", INIT_ZEROS, 0, 2, d, E);
    if (kind == TABLE_EXTRA_TENSOR) param_add(pt, "blocks.1.ff.ln.weight", INIT_ZEROS, 0, 1, d);
    if (kind != TABLE_NO_HEAD) param_add(pt, "head.weight", INIT_ZEROS, 0, 2, V, d);
}

static float *device_buffer(const Ops *ops, size_t n, uint64_t seed) {
    float *host = mallocCheck(n * sizeof(float)), *dev = ops->alloc(n * sizeof(float));
    if (seed) test_fill_uniform(host, n, 0.5f, seed);
    else memset(host, 0, n * sizeof(float));
    ops->to_device(dev, host, n * sizeof(float));
    free(host);
    return dev;
}

// Parameters random from seed (0: zeros), on the CPU table's "device".
static void tiny_model(Model *m, const ModelConfig *c, TableKind kind, uint64_t seed) {
    memset(m, 0, sizeof *m);
    m->cfg = *c;
    m->ops = &ops_cpu;
    m->precision = PREC_MIXED;
    tiny_table(c, kind, &m->table);
    m->params = device_buffer(m->ops, m->table.total, seed);
}

static void tiny_train_state(TrainState *ts, const Model *m, uint64_t seed) {
    memset(ts, 0, sizeof *ts);
    ts->adam_m = device_buffer(m->ops, m->table.total, seed ? seed + 1 : 0);
    ts->adam_v = device_buffer(m->ops, m->table.total, seed ? seed + 2 : 0);
    if (!seed) return;
    ts->step = 12345;
    ts->data_rng[0] = 0x0123456789abcdefull;
    ts->data_rng[1] = 0xfedcba9876543210ull;
    ts->data_rng[2] = 1;
    ts->data_rng[3] = UINT64_MAX;
    snprintf(ts->train_json, sizeof ts->train_json,
             "{\"lr\": 0.0007, \"note\": \"caf\xc3\xa9 \\\"quoted\\\"\"}");
}

static void free_model(Model *m, TrainState *ts) {
    m->ops->free(m->params);
    if (ts) {
        m->ops->free(ts->adam_m);
        m->ops->free(ts->adam_v);
    }
    param_table_free(&m->table);
}

static float *host_copy(const Model *m, const float *dev) {
    float *h = mallocCheck(m->table.total * sizeof(float));
    m->ops->to_host(h, dev, m->table.total * sizeof(float));
    return h;
}

static int same_buffer(const Model *a, const float *da, const Model *b, const float *db) {
    float *ha = host_copy(a, da), *hb = host_copy(b, db);
    int same = a->table.total == b->table.total &&
               !memcmp(ha, hb, a->table.total * sizeof(float));
    free(ha);
    free(hb);
    return same;
}

// ---- files ----------------------------------------------------------------------

typedef struct {
    char dir[64];
    char path[128];  // dir/ckpt.safetensors
} TempDir;

static void temp_dir(TempDir *t) {
    snprintf(t->dir, sizeof t->dir, "/tmp/test_checkpoint.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/ckpt.safetensors", t->dir);
}

// Temporary files of an atomic write (kernels/base/fileio.h names them PATH.tmp.*).
static size_t leftover_temp_files(const TempDir *t) {
    char pattern[160];
    snprintf(pattern, sizeof pattern, "%s.tmp*", t->path);
    glob_t g;
    size_t n = glob(pattern, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
    globfree(&g);
    return n;
}

static void temp_dir_remove(TempDir *t) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static unsigned char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    rewind(f);
    unsigned char *buf = mallocCheck(*size + 1);
    ck_assert_uint_eq(fread(buf, 1, *size, f), *size);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    fclose(f);
}

static uint64_t le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static void put_le64(unsigned char *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

// A safetensors file from header text (padded to 8) and data_len zero bytes.
static void write_raw(const char *path, const char *header, size_t data_len) {
    size_t len = strlen(header), padded = (len + 7) / 8 * 8;
    unsigned char *buf = calloc(8 + padded + data_len, 1);
    put_le64(buf, padded);
    memcpy(buf + 8, header, len);
    memset(buf + 8 + len, ' ', padded - len);
    write_file(path, buf, 8 + padded + data_len);
    free(buf);
}

// checkpoint_load must fail with a message holding the path and every phrase.
static void expect_load_error(const char *path, Model *m, TrainState *ts, const char *phrase1,
                              const char *phrase2) {
    char err[512] = "";
    ck_assert_int_eq(checkpoint_load(path, m, ts, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path), "error does not name the file: %s", err);
    ck_assert_msg(strstr(err, phrase1), "error lacks \"%s\": %s", phrase1, err);
    if (phrase2) ck_assert_msg(strstr(err, phrase2), "error lacks \"%s\": %s", phrase2, err);
}

// ---- tests ----------------------------------------------------------------------

// Large enough that tok_emb and head (V,d) each need two trips through the
// 2^20-float staging buffer.
START_TEST(test_round_trip_bit_exact) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(1030, 1024);
    Model a, b;
    TrainState ta, tb;
    tiny_model(&a, &cfg, TABLE_SAME, 7);
    tiny_train_state(&ta, &a, 7);
    ck_assert_uint_gt(cfg.vocab_size * cfg.d_model, 1 << 20);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &a, &ta, err, sizeof err), "%s", err);

    tiny_model(&b, &cfg, TABLE_SAME, 0);
    tiny_train_state(&tb, &b, 0);
    ck_assert_msg(!checkpoint_load(td.path, &b, &tb, err, sizeof err), "%s", err);
    ck_assert(same_buffer(&a, a.params, &b, b.params));
    ck_assert(same_buffer(&a, ta.adam_m, &b, tb.adam_m));
    ck_assert(same_buffer(&a, ta.adam_v, &b, tb.adam_v));
    ck_assert_int_eq(tb.step, ta.step);
    ck_assert(!memcmp(tb.data_rng, ta.data_rng, sizeof ta.data_rng));
    ck_assert_str_eq(tb.train_json, ta.train_json);

    ModelConfig read;
    ck_assert_msg(!checkpoint_read_config(td.path, &read, err, sizeof err), "%s", err);
    ck_assert(!memcmp(&read, &cfg, sizeof cfg));

    ck_assert_uint_eq(leftover_temp_files(&td), 0);
    free_model(&a, &ta);
    free_model(&b, &tb);
    temp_dir_remove(&td);
}
END_TEST

START_TEST(test_weights_only) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model a, b;
    TrainState ts;
    tiny_model(&a, &cfg, TABLE_SAME, 3);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &a, NULL, err, sizeof err), "%s", err);
    tiny_model(&b, &cfg, TABLE_SAME, 0);
    ck_assert_msg(!checkpoint_load(td.path, &b, NULL, err, sizeof err), "%s", err);
    ck_assert(same_buffer(&a, a.params, &b, b.params));

    tiny_train_state(&ts, &b, 0);
    expect_load_error(td.path, &b, &ts, "no optimizer state", "weights-only");

    // A train state without moments (e.g. plain SGD) still is no optimizer state.
    TrainState no_moments = {.step = 5};
    ck_assert_msg(!checkpoint_save(td.path, &a, &no_moments, err, sizeof err), "%s", err);
    expect_load_error(td.path, &b, &ts, "no optimizer state", NULL);
    free_model(&a, NULL);
    free_model(&b, &ts);
    temp_dir_remove(&td);
}
END_TEST

static const char *meta_string(const json_t *meta, const char *key) {
    const char *value = json_string_value(json_object_get(meta, key));
    ck_assert_msg(value != NULL, "metadata %s missing", key);
    return value;
}

// Parse the file by hand: header length, padding, JSON, offsets, data, metadata.
START_TEST(test_file_layout) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model m;
    TrainState ts;
    tiny_model(&m, &cfg, TABLE_SAME, 5);
    tiny_train_state(&ts, &m, 5);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &m, &ts, err, sizeof err), "%s", err);

    size_t size;
    unsigned char *file = read_file(td.path, &size);
    uint64_t n = le64(file);
    ck_assert_uint_eq(n % 8, 0);
    ck_assert_uint_le(8 + n, size);
    const char *header = (const char *)file + 8;
    ck_assert_int_eq(header[0], '{');
    size_t json_end = n;
    while (json_end > 0 && header[json_end - 1] == ' ') json_end--;
    ck_assert_uint_lt(n - json_end, 8);  // only the padding is spaces
    ck_assert_int_eq(header[json_end - 1], '}');

    json_error_t je;
    json_t *root = json_loadb(header, n, JSON_REJECT_DUPLICATES, &je);
    ck_assert_msg(root != NULL, "%s", je.text);
    const char *key;
    json_t *value;
    int index = 0;  // __metadata__, then params, m, v in table order
    uint64_t offset = 0;
    float *params = host_copy(&m, m.params), *mm = host_copy(&m, ts.adam_m),
          *vv = host_copy(&m, ts.adam_v);
    const float *buffers[3] = {params, mm, vv};
    const char *prefixes[3] = {"", "optim.m.", "optim.v."};
    json_object_foreach(root, key, value) {
        if (index++ == 0) {
            ck_assert_str_eq(key, "__metadata__");
            continue;
        }
        int which = (index - 2) / m.table.count;
        const ParamInfo *p = &m.table.items[(index - 2) % m.table.count];
        char want[96];
        snprintf(want, sizeof want, "%s%s", prefixes[which], p->name);
        ck_assert_str_eq(key, want);
        ck_assert_str_eq(json_string_value(json_object_get(value, "dtype")), "F32");
        json_t *shape = json_object_get(value, "shape");
        ck_assert_int_eq((int)json_array_size(shape), p->ndim);
        for (int dim = 0; dim < p->ndim; dim++)
            ck_assert_int_eq(json_integer_value(json_array_get(shape, (size_t)dim)),
                             p->shape[dim]);
        json_t *offsets = json_object_get(value, "data_offsets");
        ck_assert_int_eq(json_integer_value(json_array_get(offsets, 0)), (json_int_t)offset);
        ck_assert_int_eq(json_integer_value(json_array_get(offsets, 1)),
                         (json_int_t)(offset + 4 * p->numel));
        ck_assert(!memcmp(file + 8 + n + offset, buffers[which] + p->offset, 4 * p->numel));
        offset += 4 * p->numel;
    }
    ck_assert_int_eq(index, 1 + 3 * m.table.count);
    ck_assert_uint_eq(8 + n + offset, size);
    ck_assert_uint_eq((8 + n) % 8, 0);

    // SPEC §8 spot checks: experts (E,d,es), router (d,E), linear weights (out,in).
    json_t *lin1 = json_object_get(json_object_get(root, "blocks.1.ff.lin1"), "shape");
    ck_assert_int_eq(json_integer_value(json_array_get(lin1, 1)), cfg.d_model);
    json_t *qkv = json_object_get(json_object_get(root, "blocks.0.attn.qkv.weight"), "shape");
    ck_assert_int_eq(json_integer_value(json_array_get(qkv, 0)), 3 * cfg.d_model);

    json_t *meta = json_object_get(root, "__metadata__");
    json_object_foreach(meta, key, value) ck_assert_msg(json_is_string(value), "%s", key);
    ck_assert_str_eq(meta_string(meta, "format"), "pt");
    ck_assert_str_eq(meta_string(meta, "mot_bench_version"), "1");
    ck_assert_str_eq(meta_string(meta, "step"), "12345");
    ck_assert_str_eq(meta_string(meta, "data_rng"),
                     "0123456789abcdef fedcba9876543210 0000000000000001 ffffffffffffffff");
    ck_assert_str_eq(meta_string(meta, "train"), ts.train_json);
    ck_assert_str_eq(meta_string(meta, "precision"), "mixed");
    ModelConfig stored;
    ck_assert_msg(!model_config_from_json(meta_string(meta, "config"), &stored, err, sizeof err), "%s", err);
    ck_assert(!memcmp(&stored, &cfg, sizeof cfg));
    json_decref(root);
    free(params);
    free(mm);
    free(vv);
    free(file);
    free_model(&m, &ts);
    temp_dir_remove(&td);
}
END_TEST

START_TEST(test_truncated_files) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model m;
    TrainState ts;
    tiny_model(&m, &cfg, TABLE_SAME, 5);
    tiny_train_state(&ts, &m, 5);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &m, &ts, err, sizeof err), "%s", err);
    size_t size;
    unsigned char *file = read_file(td.path, &size);
    size_t n = le64(file);
    size_t lengths[] = {0, 5, 8, 8 + n / 2, 8 + n, 8 + n + 6, size / 2, size - 1};
    char cut[160];
    snprintf(cut, sizeof cut, "%s/cut.safetensors", td.dir);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        write_file(cut, file, lengths[i]);
        expect_load_error(cut, &m, &ts, "truncated", NULL);
        ModelConfig c;
        ck_assert_int_eq(checkpoint_read_config(cut, &c, err, sizeof err), -1);
    }
    expect_load_error("/nonexistent/ckpt.safetensors", &m, NULL, "cannot open", NULL);
    free(file);
    free_model(&m, &ts);
    temp_dir_remove(&td);
}
END_TEST

START_TEST(test_corrupt_header) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model m;
    tiny_model(&m, &cfg, TABLE_SAME, 5);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &m, NULL, err, sizeof err), "%s", err);
    size_t size;
    unsigned char *file = read_file(td.path, &size);
    uint64_t n = le64(file);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", td.dir);

    struct { uint64_t length; const char *phrase; } lengths[] = {
        {UINT64_MAX, "limit"},  {1ull << 40, "limit"}, {size, "runs past the end"},
        {n - 8, "not valid JSON"}, {n + 8, "not valid JSON"}, {0, "does not start with '{'"},
    };
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        put_le64(file, lengths[i].length);
        write_file(bad, file, size);
        expect_load_error(bad, &m, NULL, "header", lengths[i].phrase);
    }
    put_le64(file, n);
    memset(file + 8, ' ', n);
    memcpy(file + 8, "{\"a\": [1, 2", 11);
    write_file(bad, file, size);
    expect_load_error(bad, &m, NULL, "not valid JSON", NULL);
    free(file);
    free_model(&m, NULL);
    temp_dir_remove(&td);
}
END_TEST

// Well-formed JSON describing a broken file: the reader's own validation.
START_TEST(test_invalid_tensor_entries) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model m;
    tiny_model(&m, &cfg, TABLE_SAME, 5);
    struct { const char *header; size_t data_len; const char *phrase; } cases[] = {
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 16,
         "outside"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20, "needs 24"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "contiguous"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "stray"},
        {"{\"x\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape"},
        {"{\"x\":[1,2]}", 0, "not a tensor"},
        {"{\"__metadata__\":{\"step\":3}}", 0, "not a string"},
        {"{\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
         "\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4, "not valid JSON"},
        {"{\"__metadata__\":{\"format\":\"pt\"}}", 0, "not a mot-bench checkpoint"},
        {"[1,2]", 0, "does not start with '{'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(td.path, cases[i].header, cases[i].data_len);
        expect_load_error(td.path, &m, NULL, cases[i].phrase, NULL);
    }
    free_model(&m, NULL);
    temp_dir_remove(&td);
}
END_TEST

START_TEST(test_tensor_table_mismatch) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model a, b;
    tiny_model(&a, &cfg, TABLE_SAME, 5);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &a, NULL, err, sizeof err), "%s", err);

    tiny_model(&b, &cfg, TABLE_ROUTER_TRANSPOSED, 9);
    float *before = host_copy(&b, b.params);
    expect_load_error(td.path, &b, NULL, "'blocks.1.ff.router' has shape (8,4) in the file",
                      "(4,8) in the model");
    float *after = host_copy(&b, b.params);
    ck_assert_msg(!memcmp(before, after, b.table.total * sizeof(float)),
                  "a rejected file must leave the model untouched");
    free(before);
    free(after);
    free_model(&b, NULL);

    tiny_model(&b, &cfg, TABLE_EXTRA_TENSOR, 9);
    expect_load_error(td.path, &b, NULL, "'blocks.1.ff.ln.weight' is missing", NULL);
    free_model(&b, NULL);

    tiny_model(&b, &cfg, TABLE_NO_HEAD, 9);
    expect_load_error(td.path, &b, NULL, "'head.weight' is not part of model", NULL);
    free_model(&b, NULL);
    free_model(&a, NULL);
    temp_dir_remove(&td);
}
END_TEST

START_TEST(test_different_model_config) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model a, b;
    tiny_model(&a, &cfg, TABLE_SAME, 5);
    char err[512] = "";
    ck_assert_msg(!checkpoint_save(td.path, &a, NULL, err, sizeof err), "%s", err);

    ModelConfig other = cfg;
    other.d_ff = 24;
    tiny_model(&b, &other, TABLE_SAME, 9);
    expect_load_error(td.path, &b, NULL, "different model",
                      "d_ff is 16 in the file, 24 in the model");
    free_model(&b, NULL);

    other = cfg;
    other.moe_kind = FF_TC;
    tiny_model(&b, &other, TABLE_SAME, 9);
    expect_load_error(td.path, &b, NULL, "moe_kind is mot in the file, tc in the model", NULL);
    free_model(&b, NULL);

    other = cfg;
    other.uniform_routing = 1;  // same tensors, different model: must still be refused
    tiny_model(&b, &other, TABLE_SAME, 9);
    expect_load_error(td.path, &b, NULL, "uniform_routing is 0 in the file, 1 in the model",
                      NULL);
    free_model(&b, NULL);
    free_model(&a, NULL);
    temp_dir_remove(&td);
}
END_TEST

START_TEST(test_config_json) {
    char err[512] = "";
    for (int kind = FF_DENSE; kind <= FF_TC; kind++) {
        ModelConfig c = tiny_config(50257, 512), back;
        c.moe_kind = (FFKind)kind;
        c.temperature = 0.3f;
        c.peak_lr = 2e-4f;
        char *json = model_config_to_json(&c);
        ck_assert_msg(!model_config_from_json(json, &back, err, sizeof err), "%s", err);
        ck_assert(!memcmp(&back, &c, sizeof c));
        ck_assert_msg(strstr(json, "\"peak_lr\":0.0002"), "floats print short: %s", json);
        free(json);
    }

    ModelConfig c = tiny_config(11, 8), back;
    char *json = model_config_to_json(&c);
    struct { const char *key; json_t *value; const char *phrase; } edits[] = {
        {"d_ff", NULL, "missing field 'd_ff'"},
        {"d_model", json_string("512"), "'d_model' must be an integer"},
        {"n_layers", json_real(2.5), "'n_layers' must be an integer"},
        {"vocab_size", json_integer(1ll << 40), "'vocab_size' must be an integer"},
        {"peak_lr", json_string("fast"), "'peak_lr' must be a number"},
        {"moe_kind", json_string("moe"), "'moe_kind' must be one of"},
        {"name", json_integer(3), "'name' must be a string"},
        {"future_knob", json_true(), "unknown field 'future_knob'"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        json_t *obj = json_loads(json, 0, NULL);
        if (edits[i].value) json_object_set_new(obj, edits[i].key, edits[i].value);
        else json_object_del(obj, edits[i].key);
        char *edited = json_dumps(obj, JSON_COMPACT);
        ck_assert_int_eq(model_config_from_json(edited, &back, err, sizeof err), -1);
        ck_assert_msg(strstr(err, edits[i].phrase), "want \"%s\", got: %s", edits[i].phrase, err);
        free(edited);
        json_decref(obj);
    }
    ck_assert_int_eq(model_config_from_json("{\"name\": ", &back, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not valid JSON"), "%s", err);
    ck_assert_int_eq(model_config_from_json("[]", &back, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not a JSON object"), "%s", err);
    free(json);
}
END_TEST

// A save that fails, at creation or mid-write, leaves the previous file intact.
START_TEST(test_failed_save_keeps_previous) {
    TempDir td;
    temp_dir(&td);
    ModelConfig cfg = tiny_config(11, 8);
    Model first, second, loaded;
    tiny_model(&first, &cfg, TABLE_SAME, 5);
    tiny_model(&second, &cfg, TABLE_SAME, 6);
    tiny_model(&loaded, &cfg, TABLE_SAME, 0);
    char err[512] = "", missing[160];
    ck_assert_msg(!checkpoint_save(td.path, &first, NULL, err, sizeof err), "%s", err);

    // The temporary file cannot be created: its directory does not exist.
    snprintf(missing, sizeof missing, "%s/no-such-dir/ckpt.safetensors", td.dir);
    ck_assert_int_eq(checkpoint_save(missing, &second, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, missing) && strstr(err, "cannot create"), "%s", err);

    // The file hits a size limit mid-write (EFBIG instead of SIGXFSZ; works even as
    // root, unlike a read-only directory).
    struct rlimit saved;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = {.rlim_cur = 4096, .rlim_max = saved.rlim_max};
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = checkpoint_save(td.path, &second, NULL, err, sizeof err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err, "File too large"), "%s", err);
    ck_assert_msg(leftover_temp_files(&td) == 0, "the partial temporary file must be removed");

    ck_assert_msg(!checkpoint_load(td.path, &loaded, NULL, err, sizeof err), "%s", err);
    ck_assert(same_buffer(&first, first.params, &loaded, loaded.params));

    // And a successful save replaces it.
    ck_assert_msg(!checkpoint_save(td.path, &second, NULL, err, sizeof err), "%s", err);
    ck_assert_msg(!checkpoint_load(td.path, &loaded, NULL, err, sizeof err), "%s", err);
    ck_assert(same_buffer(&second, second.params, &loaded, loaded.params));
    free_model(&first, NULL);
    free_model(&second, NULL);
    free_model(&loaded, NULL);
    temp_dir_remove(&td);
}
END_TEST

static Suite *checkpoint_suite(void) {
    Suite *s = suite_create("checkpoint");
    TCase *tc = tcase_create("checkpoint");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip_bit_exact);
    tcase_add_test(tc, test_weights_only);
    tcase_add_test(tc, test_file_layout);
    tcase_add_test(tc, test_truncated_files);
    tcase_add_test(tc, test_corrupt_header);
    tcase_add_test(tc, test_invalid_tensor_entries);
    tcase_add_test(tc, test_tensor_table_mismatch);
    tcase_add_test(tc, test_different_model_config);
    tcase_add_test(tc, test_config_json);
    tcase_add_test(tc, test_failed_save_keeps_previous);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(checkpoint_suite()); }
