// Damaged checkpoints made from a valid one (header-only, for the Check tests):
// a real tiny MoT model saved with checkpoint_save, then one edit of its header
// (a config field, the tensors' data offsets) or of its length. Each damaged
// file is thus exactly one fault away from a file the reader accepts.
#pragma once
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "impls/checkpoint.h"
#include "tests/testutil.h"

// Vocabulary 300 (ids 0..299): below GPT-2's, so real text holds larger ids.
// MoT in block 1: E=4 experts of es = d_ff*G/E = 8, groups of G=2.
static inline ModelConfig ckpt_patch_config(void) {
    ModelConfig c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "test-mot-tiny/4e");
    c.vocab_size = 300;
    c.max_seq_len = 8;
    c.n_layers = 2;
    c.n_heads = 2;
    c.d_model = 8;
    c.d_ff = 16;
    c.moe_kind = FF_MOT;
    c.moe_first_layer = 1;
    c.n_experts = 4;
    c.expert_size = 8;
    c.group_size = 2;
    c.temperature = 1.0f;
    c.capacity_factor = 1.25f;
    c.aux_alpha = 0.01f;
    c.peak_lr = 1e-3f;
    return c;
}

// A valid weights-only checkpoint of ckpt_patch_config() at path.
static inline void ckpt_patch_write_valid(const char *path) {
    ModelConfig cfg = ckpt_patch_config();
    Model m;
    char err[512];
    ck_assert_msg(!model_create(&m, &cfg, &ops_cpu, PREC_FP32, 1, err, sizeof err), "%s", err);
    ck_assert_msg(!checkpoint_save(path, &m, NULL, err, sizeof err), "%s", err);
    model_free(&m);
}

typedef struct {
    unsigned char *bytes;
    size_t size;
    json_t *header;  // the parsed JSON header
} CkptFile;

static inline uint64_t ckpt_patch_le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static inline void ckpt_patch_read(const char *path, CkptFile *f) {
    FILE *in = fopen(path, "rb");
    ck_assert_ptr_nonnull(in);
    struct stat st;
    ck_assert_int_eq(fstat(fileno(in), &st), 0);
    f->size = (size_t)st.st_size;
    f->bytes = malloc(f->size);
    ck_assert_uint_eq(fread(f->bytes, 1, f->size, in), f->size);
    fclose(in);
    json_error_t je;
    f->header = json_loadb((const char *)f->bytes + 8, ckpt_patch_le64(f->bytes), 0, &je);
    ck_assert_msg(f->header != NULL, "%s: %s", path, je.text);
}

// Write f with its (edited) header and its original data area, keep at most
// max_bytes of the result (SIZE_MAX: all).
static inline void ckpt_patch_write(const CkptFile *f, const char *path, size_t max_bytes) {
    size_t data_start = 8 + ckpt_patch_le64(f->bytes);
    char *text = json_dumps(f->header, JSON_COMPACT);
    size_t len = strlen(text);
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (unsigned char)((uint64_t)len >> (8 * i));
    FILE *out = fopen(path, "wb");
    ck_assert_ptr_nonnull(out);
    size_t total = 8 + len + (f->size - data_start), keep = total < max_bytes ? total : max_bytes;
    // Written in order, each piece cut at what is left of keep.
    const void *pieces[] = {lenbuf, text, f->bytes + data_start};
    size_t sizes[] = {8, len, f->size - data_start};
    for (int i = 0; i < 3 && keep; i++) {
        size_t n = sizes[i] < keep ? sizes[i] : keep;
        ck_assert_uint_eq(fwrite(pieces[i], 1, n, out), n);
        keep -= n;
    }
    fclose(out);
    free(text);
}

static inline void ckpt_patch_free(CkptFile *f) {
    json_decref(f->header);
    free(f->bytes);
}

// dst = src with config field `field` set to the JSON text `value` ("-1", "1e30").
static inline void ckpt_patch_config_field(const char *src, const char *dst, const char *field,
                                           const char *value) {
    CkptFile f;
    ckpt_patch_read(src, &f);
    json_t *meta = json_object_get(f.header, "__metadata__");
    json_t *cfg = json_loads(json_string_value(json_object_get(meta, "config")), 0, NULL);
    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    ck_assert_msg(cfg && v, "cannot patch %s = %s", field, value);
    ck_assert_ptr_nonnull(json_object_get(cfg, field));
    json_object_set_new(cfg, field, v);
    char *text = json_dumps(cfg, JSON_COMPACT);
    json_object_set_new(meta, "config", json_string(text));
    free(text);
    json_decref(cfg);
    ckpt_patch_write(&f, dst, SIZE_MAX);
    ckpt_patch_free(&f);
}

// dst = src with every tensor's data_offsets moved `shift` bytes further on.
static inline void ckpt_patch_shift_offsets(const char *src, const char *dst, json_int_t shift) {
    CkptFile f;
    ckpt_patch_read(src, &f);
    const char *name;
    json_t *entry;
    json_object_foreach(f.header, name, entry) {
        json_t *offsets = json_object_get(entry, "data_offsets");
        for (size_t i = 0; i < json_array_size(offsets); i++)
            json_array_set_new(offsets, i,
                               json_integer(json_integer_value(json_array_get(offsets, i)) + shift));
    }
    ckpt_patch_write(&f, dst, SIZE_MAX);
    ckpt_patch_free(&f);
}

// dst = the first `bytes` bytes of src.
static inline void ckpt_patch_truncate(const char *src, const char *dst, size_t bytes) {
    CkptFile f;
    ckpt_patch_read(src, &f);
    ckpt_patch_write(&f, dst, bytes);
    ckpt_patch_free(&f);
}
