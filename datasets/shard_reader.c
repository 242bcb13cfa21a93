#include "datasets/shard_reader.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "datasets/byte_source.h"
#include "datasets/json_sanitize.h"
#include "kernels/base/check.h"

enum { READ_CHUNK_BYTES = 1 << 20 };

struct ShardReader {
    char path[4096];
    ByteSource *src;
    int skip_bad;
    char *buf;                // decompressed bytes; [pos, len) not yet split into lines
    size_t pos, len, cap;
    int at_end;
    uint64_t line_no;
    uint64_t skipped;
    json_t *doc;              // the document last returned (owns its text)
    char *clean;              // the line with undecodable bytes replaced (json_sanitize.h)
    size_t clean_cap;
};

ShardReader *shard_reader_open(const char *path, int skip_bad, char *err, size_t errlen) {
    ByteSource *src = byte_source_open(path, err, errlen);
    if (!src) return NULL;
    ShardReader *r = callocCheck(1, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->src = src;
    r->skip_bad = skip_bad;
    r->cap = 2 * READ_CHUNK_BYTES;
    r->buf = mallocCheck(r->cap);
    return r;
}

void shard_reader_close(ShardReader *r) {
    if (!r) return;
    json_decref(r->doc);
    byte_source_close(r->src);
    free(r->clean);
    free(r->buf);
    free(r);
}

// Make room for one more chunk after the unsplit bytes, then read it. Returns
// 1 when bytes were added, 0 at the end, -1 on an unrecoverable error.
static int fill(ShardReader *r, char *err, size_t errlen) {
    for (;;) {
        if (r->pos > 0) {
            memmove(r->buf, r->buf + r->pos, r->len - r->pos);
            r->len -= r->pos;
            r->pos = 0;
        }
        if (r->cap - r->len < READ_CHUNK_BYTES) {  // one line longer than the buffer
            r->cap *= 2;
            r->buf = realloc(r->buf, r->cap);
            if (!r->buf) die("out of memory: a line of %s exceeds %zu bytes", r->path, r->len);
        }
        ssize_t got = byte_source_read(r->src, r->buf + r->len, r->cap - r->len, err, errlen);
        if (got > 0) {
            r->len += (size_t)got;
            return 1;
        }
        if (got == 0) return 0;
        if (!r->skip_bad) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " after line %llu; re-download the file, " SKIP_BAD_HINT,
                     (unsigned long long)r->line_no);
            return -1;
        }
        // The partial line before the damage is lost with it; count both as one.
        r->skipped++;
        r->pos = r->len = 0;
        if (byte_source_resync(r->src) != 0) return 0;
    }
}

// Next line without its '\n': 1 with *line/*n, 0 at the end, -1 on error.
static int next_line(ShardReader *r, const char **line, size_t *n, char *err, size_t errlen) {
    size_t scan = r->pos;
    for (;;) {
        char *nl = memchr(r->buf + scan, '\n', r->len - scan);
        if (nl) {
            *line = r->buf + r->pos;
            *n = (size_t)(nl - *line);
            r->pos = (size_t)(nl - r->buf) + 1;
            r->line_no++;
            return 1;
        }
        if (r->at_end) {
            if (r->pos == r->len) return 0;
            *line = r->buf + r->pos;  // last line without a trailing newline
            *n = r->len - r->pos;
            r->pos = r->len;
            r->line_no++;
            return 1;
        }
        size_t unsplit = r->len - r->pos;
        uint64_t skipped = r->skipped;
        int got = fill(r, err, errlen);
        if (got < 0) return -1;
        if (got == 0) r->at_end = 1;
        // fill() moved the unsplit bytes to the front, or dropped them with damaged data.
        scan = r->skipped == skipped ? unsplit : 0;
    }
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

int shard_reader_next(ShardReader *r, const char **text, size_t *len, char *err, size_t errlen) {
    json_decref(r->doc);
    r->doc = NULL;
    for (;;) {
        const char *line;
        size_t n;
        int got = next_line(r, &line, &n, err, errlen);
        if (got <= 0) return got;
        if (blank(line, n)) continue;  // holds no document, e.g. a trailing empty line
        if (3 * n > r->clean_cap) {
            r->clean_cap = 3 * n;
            free(r->clean);
            r->clean = mallocCheck(r->clean_cap);
        }
        size_t clean_n = json_sanitize_line(line, n, r->clean);
        json_error_t jerr;
        json_t *doc = json_loadb(r->clean, clean_n, JSON_ALLOW_NUL, &jerr);
        json_t *field = doc ? json_object_get(doc, "text") : NULL;
        if (field && json_is_string(field)) {
            r->doc = doc;
            *text = json_string_value(field);
            *len = json_string_length(field);
            return 1;
        }
        json_decref(doc);
        if (r->skip_bad) {
            r->skipped++;
            continue;
        }
        if (!doc)
            snprintf(err, errlen, "%s:%llu: malformed JSON (%s, column %d); fix or remove the line, " SKIP_BAD_HINT,
                     r->path, (unsigned long long)r->line_no, jerr.text, jerr.column);
        else
            snprintf(err, errlen, "%s:%llu: no \"text\" string field; every line must be a JSON object with a \"text\" string, " SKIP_BAD_HINT,
                     r->path, (unsigned long long)r->line_no);
        return -1;
    }
}

uint64_t shard_reader_skipped(const ShardReader *r) { return r->skipped; }
uint64_t shard_reader_line(const ShardReader *r) { return r->line_no; }
uint64_t shard_reader_offset(const ShardReader *r) { return byte_source_offset(r->src); }
