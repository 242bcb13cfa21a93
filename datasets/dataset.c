// dataset_open: spec -> shard list -> one token cache per shard (reused when its
// source and the tokenizer are unchanged, else rebuilt in parallel) -> mapped.
#include "datasets/dataset_internal.h"

#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "datasets/progress.h"
#include "datasets/shard_list.h"
#include "datasets/shard_reader.h"
#include "datasets/tokenizer.h"
#include "kernels/base/check.h"
#include "kernels/base/fileio.h"
#include "kernels/base/hash.h"

// Where one shard's cache lives and what a valid cache of it must record.
typedef struct {
    const char *source;
    char cache_path[4200];
    uint64_t fingerprint;  // source path, size and mtime
    int needs_build;
} ShardPlan;

static int plan_shard(const char *source, const char *cache_dir, int vocab_size, ShardPlan *p,
                      char *err, size_t errlen) {
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(source, real) || stat(real, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", source, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file; give a shard file, a directory or a glob", source);
        return -1;
    }
    p->source = source;
    uint64_t path_hash = hash64(real, strlen(real), HASH64_INIT);
    int64_t stamp[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
    p->fingerprint = hash64(stamp, sizeof stamp, path_hash);
    // The path hash keeps same-named shards from different directories apart; the
    // vocabulary size lets caches of one shard at several vocabularies coexist.
    snprintf(p->cache_path, sizeof p->cache_path, "%s/%s.%016llx.v%d.tok", cache_dir,
             path_basename(source), (unsigned long long)path_hash, vocab_size);
    return 0;
}

// Tokenize one shard into its cache. 0, or -1 with err.
static int tokenize_shard(const ShardPlan *plan, const Tokenizer *tok, TokenizerSession *session,
                          const DatasetOptions *opt, Progress *progress, char *err, size_t errlen) {
    ShardReader *reader = shard_reader_open(plan->source, opt->skip_bad, err, errlen);
    if (!reader) return -1;
    TokCacheWriter *writer =
        tok_cache_writer_begin(plan->cache_path, tokenizer_vocab_size(tok), err, errlen);
    if (!writer) {
        shard_reader_close(reader);
        return -1;
    }
    TokenIds ids = {0};
    TokCacheHeader meta = {0};
    uint64_t offset = 0;
    const char *text;
    size_t len;
    int got;
    while ((got = shard_reader_next(reader, &text, &len, err, errlen)) == 1) {
        ids.len = 0;
        tokenizer_encode(session, text, len, &ids);
        if (tok_cache_writer_add_doc(writer, ids.ids, ids.len, err, errlen) != 0) {
            got = -1;
            break;
        }
        meta.num_docs++;
        meta.text_bytes += len;
        uint64_t now = shard_reader_offset(reader);
        progress_add(progress, now - offset, len, ids.len + 1);
        offset = now;
    }
    token_ids_free(&ids);
    if (got == 0 && meta.num_docs == 0 && !opt->skip_bad) {
        snprintf(err, errlen, "%s:%llu: no documents in this shard (empty file?); remove it from the data, " SKIP_BAD_HINT,
                 plan->source, (unsigned long long)shard_reader_line(reader));
        got = -1;
    }
    meta.skipped_lines = shard_reader_skipped(reader);
    shard_reader_close(reader);
    if (got != 0) {
        tok_cache_writer_abort(writer);
        return -1;
    }
    meta.vocab_hash = tokenizer_vocab_hash(tok);
    meta.source_fingerprint = plan->fingerprint;
    snprintf(meta.label, sizeof meta.label, "%s", shard_label(plan->source));
    return tok_cache_writer_finish(writer, &meta, err, errlen);
}

static int build_caches(ShardPlan *plans, int n, const Tokenizer *tok, const DatasetOptions *opt,
                        char *err, size_t errlen) {
    int todo = 0;
    uint64_t total_bytes = 0;
    for (int i = 0; i < n; i++) {
        if (!plans[i].needs_build) continue;
        struct stat st;
        if (stat(plans[i].source, &st) == 0) total_bytes += (uint64_t)st.st_size;
        todo++;
    }
    if (todo == 0) return 0;
    int threads = opt->threads > 0 ? opt->threads : omp_get_num_procs();
    if (threads > todo) threads = todo;
    Progress progress;
    progress_start(&progress, total_bytes, opt->quiet);
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        TokenizerSession *session = tokenizer_session_new(tok);
        char my_err[1024];
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < n; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop || !plans[i].needs_build) continue;
            if (tokenize_shard(&plans[i], tok, session, opt, &progress, my_err, sizeof my_err) != 0) {
#pragma omp critical(dataset_error)
                if (!failed) {
                    failed = 1;
                    snprintf(err, errlen, "%s", my_err);
                }
            }
        }
        tokenizer_session_free(session);
    }
    if (!failed) progress_finish(&progress);
    else if (!opt->quiet && progress.printed) fputc('\n', stderr);
    return failed ? -1 : 0;
}

static Dataset *dataset_new(int num_shards) {
    Dataset *ds = callocCheck(1, sizeof *ds);
    ds->num_shards = num_shards;
    ds->shards = callocCheck((size_t)num_shards, sizeof *ds->shards);
    ds->doc_base = callocCheck((size_t)num_shards + 1, sizeof *ds->doc_base);
    ds->tok_base = callocCheck((size_t)num_shards + 1, sizeof *ds->tok_base);
    ds->stats.shards = num_shards;
    return ds;
}

// Cumulative counts and stats once every shard is mapped. 0, or -1 with err.
static int dataset_index(Dataset *ds, const char *spec, char *err, size_t errlen) {
    for (int i = 0; i < ds->num_shards; i++) {
        const TokCacheHeader *h = &ds->shards[i].header;
        ds->doc_base[i + 1] = ds->doc_base[i] + h->num_docs;
        ds->tok_base[i + 1] = ds->tok_base[i] + h->num_tokens;
        ds->stats.skipped_lines += h->skipped_lines;
        ds->stats.text_bytes += h->text_bytes;
        ds->stats.empty_shards += h->num_docs == 0;
    }
    ds->vocab_size = (int)ds->shards[0].header.vocab_size;  // one tokenizer wrote them all
    if (ds->doc_base[ds->num_shards] == 0) {
        snprintf(err, errlen, "%s: no documents in any shard", spec);
        return -1;
    }
    return 0;
}

static Dataset *open_token_file(const char *spec, int vocab_size, char *err, size_t errlen) {
    Dataset *ds = dataset_new(1);
    TokCacheStatus st = tok_cache_open(spec, &ds->shards[0], err, errlen);
    if (st == TOK_CACHE_MISSING) snprintf(err, errlen, "%s: no such token cache", spec);
    if (st == TOK_CACHE_DAMAGED) {  // only the source can make it again
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, "; delete it and open its source shard to rebuild it");
    }
    int wrong_vocab = st == TOK_CACHE_OK && (int)ds->shards[0].header.vocab_size != vocab_size;
    if (wrong_vocab)
        snprintf(err, errlen, "%s: a token cache of vocab_size %u, but %d was asked for; open its source shard with the model's vocab_size instead",
                 spec, ds->shards[0].header.vocab_size, vocab_size);
    if (st != TOK_CACHE_OK || wrong_vocab || dataset_index(ds, spec, err, errlen) != 0) {
        dataset_close(ds);
        return NULL;
    }
    const char *label = ds->shards[0].header.label;
    if (label[0] && memchr(label, '\0', TOK_CACHE_LABEL_BYTES))
        snprintf(ds->label, sizeof ds->label, "%s", label);
    else
        spec_display_name(spec, ds->label, sizeof ds->label);
    return ds;
}

// Map each planned shard's cache; mark the ones that must be (re)built.
static void map_valid_caches(Dataset *ds, ShardPlan *plans, uint64_t vocab_hash, int quiet) {
    for (int i = 0; i < ds->num_shards; i++) {
        char why[1024];
        TokCache *c = &ds->shards[i];
        TokCacheStatus st = tok_cache_open(plans[i].cache_path, c, why, sizeof why);
        if (st == TOK_CACHE_OK && c->header.source_fingerprint == plans[i].fingerprint &&
            c->header.vocab_hash == vocab_hash)
            continue;
        if (st == TOK_CACHE_DAMAGED && !quiet) fprintf(stderr, "%s; rebuilding it\n", why);
        tok_cache_close(c);
        plans[i].needs_build = 1;
        ds->stats.shards_tokenized++;
    }
}

static int check_skips(const Dataset *ds, const ShardPlan *plans, const DatasetOptions *opt,
                       char *err, size_t errlen) {
    for (int i = 0; i < ds->num_shards; i++) {
        const TokCacheHeader *h = &ds->shards[i].header;
        if ((h->skipped_lines > 0 || h->num_docs == 0) && !opt->skip_bad) {
            // Only possible for a cache written earlier with skip-bad.
            snprintf(err, errlen, "%s: its token cache was built with --skip-bad (%llu bad lines, %llu documents); fix the shard, or pass --skip-bad",
                     plans[i].source, (unsigned long long)h->skipped_lines,
                     (unsigned long long)h->num_docs);
            return -1;
        }
        if (h->skipped_lines > 0)
            fprintf(stderr, "%s: skipped %llu malformed line(s) or damaged gzip member(s) (--skip-bad)\n",
                    plans[i].source, (unsigned long long)h->skipped_lines);
        if (h->num_docs == 0) fprintf(stderr, "%s: skipped: no documents (--skip-bad)\n", plans[i].source);
    }
    return 0;
}

static void choose_label(Dataset *ds, const ShardList *list, const char *spec) {
    const char *common = shard_label(list->paths[0]);
    for (int i = 1; i < list->n; i++)
        if (strcmp(shard_label(list->paths[i]), common) != 0) common = "";
    if (common[0]) snprintf(ds->label, sizeof ds->label, "%s", common);
    else spec_display_name(spec, ds->label, sizeof ds->label);
}

Dataset *dataset_open(const char *spec, const DatasetOptions *opt_in, char *err, size_t errlen) {
    static const DatasetOptions defaults = {0};
    const DatasetOptions *opt = opt_in ? opt_in : &defaults;
    int vocab_size = opt->vocab_size ? opt->vocab_size : GPT2_VOCAB_SIZE;
    size_t n = strlen(spec);
    if (n > 4 && !strcmp(spec + n - 4, ".tok")) return open_token_file(spec, vocab_size, err, errlen);

    const char *cache_dir = opt->cache_dir ? opt->cache_dir : getenv("MOT_CACHE_DIR");
    if (!cache_dir || !cache_dir[0]) cache_dir = ".cache/tokens";
    ShardList list;
    if (shard_list_resolve(spec, &list, err, errlen) != 0) return NULL;
    Tokenizer *tok = NULL;
    Dataset *ds = dataset_new(list.n);
    ShardPlan *plans = callocCheck((size_t)list.n, sizeof *plans);
    int ok = (tok = tokenizer_open(NULL, vocab_size, err, errlen)) != NULL &&
             make_dirs(cache_dir, err, errlen) == 0;
    for (int i = 0; ok && i < list.n; i++)
        ok = plan_shard(list.paths[i], cache_dir, vocab_size, &plans[i], err, errlen) == 0;
    if (ok) {
        map_valid_caches(ds, plans, tokenizer_vocab_hash(tok), opt->quiet);
        ok = build_caches(plans, list.n, tok, opt, err, errlen) == 0;
    }
    for (int i = 0; ok && i < list.n; i++) {
        if (!plans[i].needs_build) continue;
        ok = tok_cache_open(plans[i].cache_path, &ds->shards[i], err, errlen) == TOK_CACHE_OK;
    }
    ok = ok && check_skips(ds, plans, opt, err, errlen) == 0 && dataset_index(ds, spec, err, errlen) == 0;
    if (ok) choose_label(ds, &list, spec);
    free(plans);
    tokenizer_free(tok);
    shard_list_free(&list);
    if (!ok) {
        dataset_close(ds);
        return NULL;
    }
    return ds;
}

void dataset_close(Dataset *ds) {
    if (!ds) return;
    for (int i = 0; i < ds->num_shards; i++) tok_cache_close(&ds->shards[i]);
    free(ds->shards);
    free(ds->doc_base);
    free(ds->tok_base);
    free(ds);
}

const char *dataset_label(const Dataset *ds) { return ds->label; }
uint64_t dataset_num_tokens(const Dataset *ds) { return ds->tok_base[ds->num_shards]; }
uint64_t dataset_num_docs(const Dataset *ds) { return ds->doc_base[ds->num_shards]; }
int dataset_vocab_size(const Dataset *ds) { return ds->vocab_size; }
DatasetStats dataset_stats(const Dataset *ds) { return ds->stats; }

int dataset_shard_of(const Dataset *ds, const uint64_t *base, uint64_t x) {
    int lo = 0, hi = ds->num_shards - 1;  // the last shard with base[s] <= x
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (base[mid] <= x) lo = mid;
        else hi = mid - 1;
    }
    return lo;  // empty shards share their base with the next one, so are never chosen
}

const uint16_t *dataset_document(const Dataset *ds, uint64_t doc, uint64_t *len) {
    if (doc >= dataset_num_docs(ds)) die("document %llu out of range (%llu documents)",
                                         (unsigned long long)doc, (unsigned long long)dataset_num_docs(ds));
    int s = dataset_shard_of(ds, ds->doc_base, doc);
    const TokCache *c = &ds->shards[s];
    uint64_t local = doc - ds->doc_base[s];
    uint64_t start = c->doc_starts[local];
    uint64_t end = local + 1 < c->header.num_docs ? c->doc_starts[local + 1] : c->header.num_tokens;
    *len = end - start;
    return c->tokens + start;
}
