#include "impls/safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernels/base/error.h"
#include "kernels/common.h"

// Tensor data is written and read as raw host bytes; safetensors is little-endian.
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

// The reference reader refuses larger headers; so do we, before allocating.
#define ST_MAX_HEADER_BYTES 100000000ull

// Element sizes of the byte-sized dtypes of the format.
static size_t dtype_size(const char *dtype) {
    static const struct { const char *name; size_t size; } dtypes[] = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
        {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
        {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8},
    };
    for (size_t i = 0; i < sizeof(dtypes) / sizeof(dtypes[0]); i++)
        if (!strcmp(dtype, dtypes[i].name)) return dtypes[i].size;
    return 0;
}

void st_format_shape(char *out, size_t outlen, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(out, outlen, "(");
    for (int i = 0; i < ndim && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%" PRId64, i ? "," : "", shape[i]);
    if (used < outlen) snprintf(out + used, outlen - used, ")");
}

// ---- reading -----------------------------------------------------------------

// A non-negative JSON integer, or -1.
static int64_t json_count(const json_t *v) {
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    return (int64_t)json_integer_value(v);
}

// One header entry {"dtype", "shape", "data_offsets"} into t.
static int parse_tensor_entry(const char *path, const char *name, const json_t *entry,
                              StTensor *t, char *err, size_t errlen) {
    t->name = name;
    if (!*name) return errorf(err, errlen, "%s: header has a tensor with an empty name", path);
    const json_t *dtype = json_object_get(entry, "dtype");
    const json_t *shape = json_object_get(entry, "shape");
    const json_t *offsets = json_object_get(entry, "data_offsets");
    if (!json_is_object(entry) || !json_is_string(dtype) || !json_is_array(shape) ||
        !json_is_array(offsets))
        return errorf(err, errlen, "%s: header entry '%s' is not a tensor {\"dtype\", "
                      "\"shape\", \"data_offsets\"}", path, name);
    t->dtype = json_string_value(dtype);
    t->dtype_size = dtype_size(t->dtype);
    if (!t->dtype_size)
        return errorf(err, errlen, "%s: tensor '%s' has unknown dtype '%s'", path, name, t->dtype);
    if (json_array_size(shape) > ST_MAX_DIMS)
        return errorf(err, errlen, "%s: tensor '%s' has %zu dims (at most %d supported)", path,
                      name, json_array_size(shape), ST_MAX_DIMS);
    t->ndim = (int)json_array_size(shape);
    uint64_t nbytes = t->dtype_size;
    for (int i = 0; i < t->ndim; i++) {
        t->shape[i] = json_count(json_array_get(shape, (size_t)i));
        if (t->shape[i] < 0)
            return errorf(err, errlen, "%s: tensor '%s': shape entry %d is not a count", path,
                          name, i);
        if (__builtin_mul_overflow(nbytes, (uint64_t)t->shape[i], &nbytes))
            return errorf(err, errlen, "%s: tensor '%s': shape overflows 64 bits", path, name);
    }
    int64_t begin = json_count(json_array_get(offsets, 0));
    int64_t end = json_count(json_array_get(offsets, 1));
    if (json_array_size(offsets) != 2 || begin < 0 || end < begin)
        return errorf(err, errlen, "%s: tensor '%s': data_offsets must be [begin, end] with "
                      "0 <= begin <= end", path, name);
    t->begin = (uint64_t)begin;
    t->end = (uint64_t)end;
    if (t->end - t->begin != nbytes) {
        char s[128];
        st_format_shape(s, sizeof s, t->ndim, t->shape);
        return errorf(err, errlen, "%s: tensor '%s': data_offsets [%" PRIu64 ",%" PRIu64
                      ") hold %" PRIu64 " bytes but %s %s needs %" PRIu64, path, name, t->begin,
                    t->end, t->end - t->begin, t->dtype, s, nbytes);
    }
    return 0;
}

static int by_offset(const void *a, const void *b) {
    const StTensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

// The tensors must tile the data area exactly, as the reference reader demands.
static int check_tiling(const StFile *sf, char *err, size_t errlen) {
    uint64_t expected = 0;
    for (int i = 0; i < sf->n_tensors; i++) {
        const StTensor *t = &sf->tensors[i];
        if (t->end > sf->data_len)
            return errorf(err, errlen,
                          "%s: tensor '%s' data [%" PRIu64 ",%" PRIu64 ") lies outside the %" PRIu64
                          "-byte data area: the file is truncated",
                          sf->path, t->name, t->begin, t->end, sf->data_len);
        if (t->begin != expected)
            return errorf(err, errlen, "%s: tensor '%s' starts at data byte %" PRIu64 ", expected %"
                          PRIu64 " (tensor data must be contiguous, without gaps or overlaps)",
                          sf->path, t->name, t->begin, expected);
        expected = t->end;
    }
    if (expected != sf->data_len)
        return errorf(err, errlen, "%s: %" PRIu64 " stray bytes after the last tensor's data",
                      sf->path, sf->data_len - expected);
    return 0;
}

static int parse_header(StFile *sf, const char *text, size_t len, char *err, size_t errlen) {
    const char *path = sf->path;
    if (len == 0 || text[0] != '{')
        return errorf(err, errlen, "%s: header does not start with '{': not a safetensors file",
                      path);
    json_error_t je;
    sf->header = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!sf->header)
        return errorf(err, errlen, "%s: header is not valid JSON (%s, at header byte %d)", path,
                      je.text, je.position);
    if (!json_is_object(sf->header))
        return errorf(err, errlen, "%s: header is not a JSON object", path);
    sf->tensors = callocCheck(json_object_size(sf->header) + 1, sizeof(StTensor));
    const char *key;
    json_t *value;
    json_object_foreach(sf->header, key, value) {
        if (!strcmp(key, "__metadata__")) {
            const char *mkey;
            json_t *mvalue;
            if (!json_is_object(value))
                return errorf(err, errlen, "%s: __metadata__ is not a JSON object", path);
            json_object_foreach(value, mkey, mvalue) {
                if (!json_is_string(mvalue))
                    return errorf(err, errlen, "%s: __metadata__ entry '%s' is not a string",
                                  path, mkey);
            }
            continue;
        }
        if (parse_tensor_entry(path, key, value, &sf->tensors[sf->n_tensors], err, errlen))
            return -1;
        sf->n_tensors++;
    }
    qsort(sf->tensors, (size_t)sf->n_tensors, sizeof(StTensor), by_offset);
    return check_tiling(sf, err, errlen);
}

static uint64_t load_le64(const uint8_t b[8]) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

int st_open(StFile *sf, const char *path, char *err, size_t errlen) {
    memset(sf, 0, sizeof(*sf));
    sf->path = strdup(path);
    sf->f = fopen(path, "rb");
    if (!sf->path || !sf->f) {
        errorf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        st_close(sf);
        return -1;
    }
    struct stat st;
    uint8_t lenbuf[8];
    char *text = NULL;
    int rc = -1;
    if (fstat(fileno(sf->f), &st)) {
        errorf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {  // fopen opens a directory; its reads then fail oddly
        errorf(err, errlen, "%s: %s, not a checkpoint file (give the path of a .safetensors "
               "file)", path, S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < 8 || fread(lenbuf, 1, 8, sf->f) != 8) {
        errorf(err, errlen, "%s: file is %" PRIu64 " bytes, shorter than the 8-byte header "
               "length: truncated or not a safetensors file", path, size);
        goto out;
    }
    uint64_t n = load_le64(lenbuf);
    if (n > ST_MAX_HEADER_BYTES) {
        errorf(err, errlen, "%s: header length %" PRIu64 " is over the %llu-byte limit: corrupt "
               "or not a safetensors file", path, n, ST_MAX_HEADER_BYTES);
        goto out;
    }
    if (n > size - 8) {
        errorf(err, errlen, "%s: header length %" PRIu64 " runs past the end of the %" PRIu64
               "-byte file: truncated or corrupt", path, n, size);
        goto out;
    }
    sf->data_start = 8 + n;
    sf->data_len = size - sf->data_start;
    text = mallocCheck(n);
    if (fread(text, 1, n, sf->f) != n) {
        errorf(err, errlen, "%s: cannot read the %" PRIu64 "-byte header: %s", path, n,
               ferror(sf->f) ? strerror(errno) : "unexpected end of file");
        goto out;
    }
    rc = parse_header(sf, text, n, err, errlen);
out:
    free(text);
    if (rc) st_close(sf);
    return rc;
}

void st_close(StFile *sf) {
    if (sf->f) fclose(sf->f);
    json_decref(sf->header);
    free(sf->tensors);
    free(sf->path);
    memset(sf, 0, sizeof(*sf));
}

const StTensor *st_find(const StFile *sf, const char *name) {
    for (int i = 0; i < sf->n_tensors; i++)
        if (!strcmp(sf->tensors[i].name, name)) return &sf->tensors[i];
    return NULL;
}

const char *st_metadata(const StFile *sf, const char *key) {
    return json_string_value(json_object_get(json_object_get(sf->header, "__metadata__"), key));
}

int st_read(StFile *sf, const StTensor *t, uint64_t offset, void *dst, size_t bytes,
            char *err, size_t errlen) {
    if (offset > t->end - t->begin || bytes > t->end - t->begin - offset)
        die("st_read: bytes [%" PRIu64 ",+%zu) outside tensor '%s'", offset, bytes, t->name);
    if (fseeko(sf->f, (off_t)(sf->data_start + t->begin + offset), SEEK_SET) ||
        fread(dst, 1, bytes, sf->f) != bytes)
        return errorf(err, errlen, "%s: cannot read tensor '%s': %s", sf->path, t->name,
                      ferror(sf->f) ? strerror(errno) : "unexpected end of file");
    return 0;
}

// ---- writing -----------------------------------------------------------------

void st_writer_init(StWriter *w) {
    memset(w, 0, sizeof(*w));
    w->header = json_object();
    if (!w->header || json_object_set_new(w->header, "__metadata__", json_object()))
        die("out of memory creating a safetensors header");
}

void st_writer_free(StWriter *w) {
    if (w->out.f) atomic_abort(&w->out);  // PATH itself is untouched before the commit
    json_decref(w->header);
    memset(w, 0, sizeof(*w));
}

int st_writer_add_metadata(StWriter *w, const char *key, const char *value, char *err,
                           size_t errlen) {
    json_t *s = json_string(value);  // NULL when value is not valid UTF-8
    if (!s || json_object_set_new(json_object_get(w->header, "__metadata__"), key, s))
        return errorf(err, errlen, "safetensors metadata '%s': key or value is not valid UTF-8",
                      key);
    return 0;
}

void st_writer_add_f32(StWriter *w, const char *name, int ndim, const int64_t *shape) {
    if (w->out.f) die("st_writer_add_f32(%s) after st_writer_open", name);
    if (!strcmp(name, "__metadata__") || json_object_get(w->header, name))
        die("safetensors tensor name '%s' used twice or reserved", name);
    if (ndim < 0 || ndim > ST_MAX_DIMS) die("tensor %s: %d dims", name, ndim);
    uint64_t bytes = 4;
    json_t *dims = json_array();
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || __builtin_mul_overflow(bytes, (uint64_t)shape[i], &bytes))
            die("tensor %s: bad shape entry %" PRId64, name, shape[i]);
        json_array_append_new(dims, json_integer(shape[i]));
    }
    json_t *entry = json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", dims,
                              "data_offsets", (json_int_t)w->data_len,
                              (json_int_t)(w->data_len + bytes));
    if (!entry || json_object_set_new(w->header, name, entry))
        die("tensor name '%s' is not valid UTF-8", name);
    w->data_len += bytes;
}

static int write_bytes(StWriter *w, const void *data, size_t bytes, char *err, size_t errlen) {
    if (fwrite(data, 1, bytes, w->out.f) == bytes) return 0;
    errorf(err, errlen, "%s: write failed: %s", w->out.tmp_path, strerror(errno));
    atomic_abort(&w->out);
    return -1;
}

int st_writer_open(StWriter *w, const char *path, char *err, size_t errlen) {
    if (w->out.f) die("st_writer_open(%s): already open", path);
    json_t *meta = json_object_get(w->header, "__metadata__");
    if (json_object_size(meta) == 0) json_object_del(w->header, "__metadata__");
    char *text = json_dumps(w->header, JSON_COMPACT);
    if (!text) die("out of memory serialising a safetensors header");
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;  // data starts 8-aligned
    if (atomic_open(&w->out, path, err, errlen)) {
        free(text);
        return -1;
    }
    uint8_t lenbuf[8];
    for (int i = 0; i < 8; i++) lenbuf[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    static const char spaces[8] = "        ";
    int rc = write_bytes(w, lenbuf, 8, err, errlen);
    if (!rc) rc = write_bytes(w, text, len, err, errlen);
    if (!rc) rc = write_bytes(w, spaces, padded - len, err, errlen);
    free(text);
    return rc;
}

int st_writer_write(StWriter *w, const void *data, size_t bytes, char *err, size_t errlen) {
    if (!w->out.f) die("st_writer_write before st_writer_open");
    if (bytes > w->data_len - w->written)
        die("%s: writing %zu bytes past the %" PRIu64 " declared", w->out.path, bytes,
            w->data_len);
    w->written += bytes;
    return write_bytes(w, data, bytes, err, errlen);
}

int st_writer_commit(StWriter *w, char *err, size_t errlen) {
    if (!w->out.f) die("st_writer_commit before st_writer_open");
    if (w->written != w->data_len)
        die("%s: %" PRIu64 " of %" PRIu64 " declared bytes written", w->out.path, w->written,
            w->data_len);
    return atomic_commit(&w->out, err, errlen);
}
