#include "datasets/token_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/file_util.h"
#include "datasets/tokenizer.h"
#include "kernels/common.h"

_Static_assert(sizeof(TokCacheHeader) == 128, "cache header layout is part of the file format");

static size_t padded_token_bytes(uint64_t num_tokens) {
    return (size_t)((num_tokens * 2 + 7) & ~(uint64_t)7);
}

static size_t expected_file_bytes(const TokCacheHeader *h) {
    return sizeof(TokCacheHeader) + padded_token_bytes(h->num_tokens) + (size_t)h->num_docs * 8;
}

// Structural checks: every document starts where the previous one ended and
// ends with end-of-text. Cheap (one read per document) and catches a file whose
// body does not belong to its header.
static int check_documents(const TokCache *c, char *why, size_t whylen) {
    const TokCacheHeader *h = &c->header;
    uint64_t expect = 0;
    for (uint64_t d = 0; d < h->num_docs; d++) {
        uint64_t start = c->doc_starts[d];
        uint64_t end = d + 1 < h->num_docs ? c->doc_starts[d + 1] : h->num_tokens;
        if (start != expect || end <= start || end > h->num_tokens) {
            snprintf(why, whylen, "document %llu has bad offsets [%llu, %llu)",
                     (unsigned long long)d, (unsigned long long)start, (unsigned long long)end);
            return -1;
        }
        if (c->tokens[end - 1] != GPT2_EOT) {
            snprintf(why, whylen, "document %llu does not end with end-of-text", (unsigned long long)d);
            return -1;
        }
        expect = end;
    }
    if (expect != h->num_tokens) {
        snprintf(why, whylen, "documents cover %llu of %llu tokens", (unsigned long long)expect,
                 (unsigned long long)h->num_tokens);
        return -1;
    }
    return 0;
}

TokCacheStatus tok_cache_open(const char *path, TokCache *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) return TOK_CACHE_MISSING;
        snprintf(err, errlen, "%s: cannot open token cache: %s", path, strerror(errno));
        return TOK_CACHE_DAMAGED;
    }
    struct stat st;
    char why[256] = "";
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(TokCacheHeader)) {
        snprintf(why, sizeof why, "%lld bytes, shorter than the header", (long long)st.st_size);
    } else if (pread(fd, &c->header, sizeof c->header, 0) != (ssize_t)sizeof c->header) {
        snprintf(why, sizeof why, "cannot read the header: %s", strerror(errno));
    } else if (memcmp(c->header.magic, TOK_CACHE_MAGIC, 8) != 0) {
        snprintf(why, sizeof why, "not a token cache (bad magic)");
    } else if (c->header.version != TOK_CACHE_VERSION ||
               c->header.header_bytes != sizeof(TokCacheHeader)) {
        snprintf(why, sizeof why, "format version %u, this build reads %d", c->header.version,
                 TOK_CACHE_VERSION);
    } else if (c->header.num_tokens > (uint64_t)st.st_size || c->header.num_docs > (uint64_t)st.st_size ||
               expected_file_bytes(&c->header) != (size_t)st.st_size) {  // first two: no overflow
        snprintf(why, sizeof why, "%lld bytes but the header promises %zu (truncated?)",
                 (long long)st.st_size, expected_file_bytes(&c->header));
    }
    if (why[0]) {
        close(fd);
        snprintf(err, errlen, "%s: damaged token cache: %s", path, why);
        return TOK_CACHE_DAMAGED;
    }
    c->map_bytes = (size_t)st.st_size;
    c->map = mmap(NULL, c->map_bytes, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (c->map == MAP_FAILED) {
        c->map = NULL;
        snprintf(err, errlen, "%s: cannot map token cache: %s", path, strerror(errno));
        return TOK_CACHE_DAMAGED;
    }
    const char *base = c->map;
    c->tokens = (const uint16_t *)(base + sizeof(TokCacheHeader));
    c->doc_starts = (const uint64_t *)(base + sizeof(TokCacheHeader) +
                                       padded_token_bytes(c->header.num_tokens));
    if (check_documents(c, why, sizeof why) != 0) {
        tok_cache_close(c);
        snprintf(err, errlen, "%s: damaged token cache: %s", path, why);
        return TOK_CACHE_DAMAGED;
    }
    return TOK_CACHE_OK;
}

void tok_cache_close(TokCache *c) {
    if (c->map) munmap(c->map, c->map_bytes);
    memset(c, 0, sizeof *c);
}

// ---- writer -----------------------------------------------------------------

struct TokCacheWriter {
    char path[4096], tmp_path[4200];
    FILE *f;
    uint64_t num_tokens;
    uint64_t *doc_starts;  // (num_docs), grown by doubling
    uint64_t num_docs, cap_docs;
    uint16_t *chunk;       // staging for one document's uint16 ids
    size_t chunk_cap;
};

TokCacheWriter *tok_cache_writer_begin(const char *path, char *err, size_t errlen) {
    TokCacheWriter *w = callocCheck(1, sizeof *w);
    snprintf(w->path, sizeof w->path, "%s", path);
    // The pid keeps concurrent writers (ranks on one host) off each other's file.
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s.%ld.tmp", path, (long)getpid());
    w->f = fopen(w->tmp_path, "wb");
    if (!w->f) {
        snprintf(err, errlen, "%s: cannot create token cache: %s; point MOT_CACHE_DIR at a writable folder",
                 w->tmp_path, strerror(errno));
        free(w);
        return NULL;
    }
    TokCacheHeader placeholder = {0};  // rewritten by finish()
    if (fwrite(&placeholder, sizeof placeholder, 1, w->f) != 1) {
        snprintf(err, errlen, "%s: write failed: %s", w->tmp_path, strerror(errno));
        tok_cache_writer_abort(w);
        return NULL;
    }
    return w;
}

int tok_cache_writer_add_doc(TokCacheWriter *w, const int *ids, size_t n, char *err, size_t errlen) {
    if (w->num_docs == w->cap_docs) {
        w->cap_docs = w->cap_docs ? 2 * w->cap_docs : 4096;
        w->doc_starts = realloc(w->doc_starts, w->cap_docs * sizeof *w->doc_starts);
        if (!w->doc_starts) die("out of memory growing document index to %llu entries",
                                (unsigned long long)w->cap_docs);
    }
    if (n + 1 > w->chunk_cap) {
        w->chunk_cap = 2 * (n + 1);
        free(w->chunk);
        w->chunk = mallocCheck(w->chunk_cap * sizeof *w->chunk);
    }
    for (size_t i = 0; i < n; i++) w->chunk[i] = (uint16_t)ids[i];
    w->chunk[n] = GPT2_EOT;
    if (fwrite(w->chunk, sizeof *w->chunk, n + 1, w->f) != n + 1) {
        snprintf(err, errlen, "%s: write failed (disk full?): %s", w->tmp_path, strerror(errno));
        return -1;
    }
    w->doc_starts[w->num_docs++] = w->num_tokens;
    w->num_tokens += n + 1;
    return 0;
}

static void writer_free(TokCacheWriter *w) {
    if (w->f) fclose(w->f);
    free(w->doc_starts);
    free(w->chunk);
    free(w);
}

int tok_cache_writer_finish(TokCacheWriter *w, const TokCacheHeader *meta, char *err,
                            size_t errlen) {
    TokCacheHeader h = *meta;
    memcpy(h.magic, TOK_CACHE_MAGIC, 8);
    h.version = TOK_CACHE_VERSION;
    h.header_bytes = sizeof h;
    h.num_tokens = w->num_tokens;
    h.num_docs = w->num_docs;
    static const uint8_t zeros[8] = {0};
    size_t pad = padded_token_bytes(h.num_tokens) - (size_t)h.num_tokens * 2;
    int ok = fwrite(zeros, 1, pad, w->f) == pad &&
             (w->num_docs == 0 || fwrite(w->doc_starts, 8, (size_t)w->num_docs, w->f) == w->num_docs) &&
             fseek(w->f, 0, SEEK_SET) == 0 && fwrite(&h, sizeof h, 1, w->f) == 1 &&
             fflush(w->f) == 0 && fsync(fileno(w->f)) == 0;
    ok = (fclose(w->f) == 0) && ok;
    w->f = NULL;
    if (!ok || rename(w->tmp_path, w->path) != 0) {
        snprintf(err, errlen, "%s: cannot write token cache (disk full?): %s", w->path,
                 strerror(errno));
        tok_cache_writer_abort(w);
        return -1;
    }
    fsync_parent_dir(w->path);
    writer_free(w);
    return 0;
}

void tok_cache_writer_abort(TokCacheWriter *w) {
    if (w->f) fclose(w->f);
    w->f = NULL;
    unlink(w->tmp_path);
    writer_free(w);
}
