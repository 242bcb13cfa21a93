#include "datasets/token_cache.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernels/base/check.h"
#include "kernels/base/fileio.h"

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
        if (c->tokens[end - 1] != h->vocab_size - 1) {
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
    } else if (c->header.vocab_size < 2 || c->header.vocab_size > 65536) {
        snprintf(why, sizeof why, "vocab_size %u, not a 16-bit vocabulary", c->header.vocab_size);
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
    AtomicFile out;
    int vocab_size;        // end-of-text is vocab_size-1
    uint64_t num_tokens;
    uint64_t *doc_starts;  // (num_docs), grown by doubling
    uint64_t num_docs, cap_docs;
    uint16_t *chunk;       // staging for one document's uint16 ids
    size_t chunk_cap;
};

// A writer killed mid-write (kill -9, out of memory, a node lost) leaves its
// temporary file behind: NAME.tok.tmp.PID.N (atomic_open), or NAME.tok.PID.tmp from
// older builds. The pid of the writer, or -1 when name is not such a file.
static long temp_writer_pid(const char *name) {
    const char *tok = strstr(name, ".tok.");
    if (!tok) return -1;
    long pid;
    unsigned n;
    int used = 0;
    if (sscanf(tok, ".tok.tmp.%ld.%u%n", &pid, &n, &used) == 2 && !tok[used]) return pid;
    if (sscanf(tok, ".tok.%ld.tmp%n", &pid, &used) == 1 && !tok[used]) return pid;
    return -1;
}

// Remove the temporaries of dir whose writer is dead: its pid is not running here
// and the file has not changed for STALE_TEMP_SECONDS (a writer on another host
// sharing the folder keeps its file's mtime fresh, and its pid means nothing here).
enum { STALE_TEMP_SECONDS = 600 };
static void remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    time_t now = time(NULL);
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temp_writer_pid(e->d_name);
        if (pid <= 0 || kill((pid_t)pid, 0) == 0 || errno == EPERM) continue;  // alive
        char path[4352];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            now - st.st_mtime >= STALE_TEMP_SECONDS)
            unlink(path);
    }
    closedir(d);
}

TokCacheWriter *tok_cache_writer_begin(const char *path, int vocab_size, char *err, size_t errlen) {
    if (vocab_size < 2 || vocab_size > 65536) {
        snprintf(err, errlen, "%s: vocab_size %d does not fit the cache's 16-bit ids (2..65536)", path, vocab_size);
        return NULL;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    remove_stale_temps(slash ? dir : ".");
    TokCacheWriter *w = callocCheck(1, sizeof *w);
    w->vocab_size = vocab_size;
    // Concurrent writers (ranks on one host) each get their own temporary file.
    if (atomic_open(&w->out, path, err, errlen)) {
        size_t used = strlen(err);
        snprintf(err + used, errlen - used, "; point MOT_CACHE_DIR at a writable folder");
        free(w);
        return NULL;
    }
    TokCacheHeader placeholder = {0};  // rewritten by finish()
    if (fwrite(&placeholder, sizeof placeholder, 1, w->out.f) != 1) {
        snprintf(err, errlen, "%s: write failed: %s", w->out.tmp_path, strerror(errno));
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
    int eot = w->vocab_size - 1;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= eot) {
            snprintf(err, errlen, "%s: document %llu, id %d outside [0, %d): not from the tokenizer of vocab_size %d",
                     w->out.path, (unsigned long long)w->num_docs, ids[i], eot, w->vocab_size);
            return -1;
        }
        w->chunk[i] = (uint16_t)ids[i];
    }
    w->chunk[n] = (uint16_t)eot;
    if (fwrite(w->chunk, sizeof *w->chunk, n + 1, w->out.f) != n + 1) {
        snprintf(err, errlen, "%s: write failed (disk full?): %s", w->out.tmp_path,
                 strerror(errno));
        return -1;
    }
    w->doc_starts[w->num_docs++] = w->num_tokens;
    w->num_tokens += n + 1;
    return 0;
}

static void writer_free(TokCacheWriter *w) {
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
    h.vocab_size = (uint32_t)w->vocab_size;
    static const uint8_t zeros[8] = {0};
    size_t pad = padded_token_bytes(h.num_tokens) - (size_t)h.num_tokens * 2;
    FILE *f = w->out.f;
    int ok = fwrite(zeros, 1, pad, f) == pad &&
             (w->num_docs == 0 || fwrite(w->doc_starts, 8, (size_t)w->num_docs, f) == w->num_docs) &&
             fseek(f, 0, SEEK_SET) == 0 && fwrite(&h, sizeof h, 1, f) == 1;
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write token cache (disk full?): %s", w->out.path,
                 strerror(errno));
        tok_cache_writer_abort(w);
        return -1;
    }
    int rc = atomic_commit(&w->out, err, errlen);
    writer_free(w);
    return rc;
}

void tok_cache_writer_abort(TokCacheWriter *w) {
    atomic_abort(&w->out);
    writer_free(w);
}
