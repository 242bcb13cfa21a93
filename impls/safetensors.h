// A small safetensors reader/writer (the format of Hugging Face's `safetensors`):
//
//   u64 little-endian N | N bytes of JSON header, space-padded | raw tensor data
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin,end]}
// (byte offsets into the data area) and may hold "__metadata__", a string->string map.
// Files written here follow the reference writer: header padded to a multiple of 8
// bytes, tensor data contiguous in declaration order with no gaps and nothing after
// it. The reader enforces the same rules as the reference reader, so a file it
// accepts is one the Python package accepts too.
//
// Reading parses only the header (st_open never touches tensor data); data is then
// read in byte ranges, so callers can stage large tensors through a small buffer.
// Writing is atomic (kernels/base/fileio.h): data goes to a temporary file next to
// PATH, which replaces PATH only once complete.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kernels/base/fileio.h"

enum { ST_MAX_DIMS = 8 };

struct json_t;  // jansson

typedef struct {
    const char *name;     // points into the parsed header
    const char *dtype;    // "F32", "BF16", ...
    size_t dtype_size;    // bytes per element
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end;  // byte offsets into the data area
} StTensor;

typedef struct {
    char *path;             // for error messages
    FILE *f;
    uint64_t data_start;    // 8 + N
    uint64_t data_len;      // bytes after the header
    struct json_t *header;  // parsed JSON, owns the name/dtype strings
    StTensor *tensors;      // sorted by data offset
    int n_tensors;
} StFile;

// Open and validate the header: lengths, JSON, dtypes, shapes, and that the tensor
// data exactly tiles the rest of the file. 0, or -1 with err naming the file and
// the problem (nothing to free then).
int st_open(StFile *sf, const char *path, char *err, size_t errlen);
void st_close(StFile *sf);
const StTensor *st_find(const StFile *sf, const char *name);  // NULL if absent
const char *st_metadata(const StFile *sf, const char *key);   // NULL if absent
// Read bytes [offset, offset+bytes) of tensor t's data into dst. 0, or -1 with err.
int st_read(StFile *sf, const StTensor *t, uint64_t offset, void *dst, size_t bytes,
            char *err, size_t errlen);
// "(2,3,4)": a shape for error messages.
void st_format_shape(char *out, size_t outlen, int ndim, const int64_t *shape);

// Writer: declare every tensor and metadata entry, st_writer_open (writes the
// header), st_writer_write the data of each tensor in declaration order (in any
// number of pieces), then st_writer_commit. On any failure, or when freed before
// commit, the temporary file is removed and PATH is left as it was.
typedef struct {
    struct json_t *header;  // "__metadata__" first, then tensors in declaration order
    uint64_t data_len;      // bytes declared
    uint64_t written;       // bytes written so far
    AtomicFile out;         // out.f is NULL until st_writer_open
} StWriter;

void st_writer_init(StWriter *w);
void st_writer_free(StWriter *w);
// Values must be valid UTF-8: 0, or -1 with err.
int st_writer_add_metadata(StWriter *w, const char *key, const char *value, char *err,
                           size_t errlen);
void st_writer_add_f32(StWriter *w, const char *name, int ndim, const int64_t *shape);
int st_writer_open(StWriter *w, const char *path, char *err, size_t errlen);
int st_writer_write(StWriter *w, const void *data, size_t bytes, char *err, size_t errlen);
// Check that all declared data was written, then atomic_commit: fsync, rename over
// PATH, fsync the directory. 0, or -1 with err.
int st_writer_commit(StWriter *w, char *err, size_t errlen);
