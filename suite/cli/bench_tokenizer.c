// suite bench --tokenizer: single-thread GPT-2 BPE throughput in MB/s of UTF-8
// text, on the bundled C4 samples (or --data files). Each pass starts with a
// fresh session, so the word cache warms up inside the timing, as it does on a
// shard. Timed in CPU seconds of the thread, so other load on the machine does
// not count against the tokenizer.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datasets/shard_reader.h"
#include "datasets/tokenizer.h"
#include "kernels/common.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/paths.h"

static const char *USAGE =
    "usage: suite bench --tokenizer [--data FILE ...] [--passes N]\n\n"
    "MB/s of UTF-8 text that one core turns into GPT-2 ids per CPU-second\n"
    "(pre-tokenization + BPE; reading and JSON parsing excluded). Default data:\n"
    "the two C4 samples in datasets/c4-sample.";

static const char *const DEFAULT_DATA[] = {
    "datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz",
    "datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl",
};

typedef struct {
    char **texts;
    size_t *lens;
    size_t n, bytes;
} Corpus;

static int corpus_add_file(Corpus *c, const char *path, char *err, size_t errlen) {
    ShardReader *r = shard_reader_open(path, 0, err, errlen);
    if (!r) return -1;
    const char *text;
    size_t len;
    int got;
    while ((got = shard_reader_next(r, &text, &len, err, errlen)) == 1) {
        c->texts = realloc(c->texts, (c->n + 1) * sizeof *c->texts);
        c->lens = realloc(c->lens, (c->n + 1) * sizeof *c->lens);
        if (!c->texts || !c->lens) die("out of memory loading %s", path);
        c->texts[c->n] = mallocCheck(len);
        memcpy(c->texts[c->n], text, len);
        c->lens[c->n++] = len;
        c->bytes += len;
    }
    shard_reader_close(r);
    return got;
}

static void corpus_free(Corpus *c) {
    for (size_t i = 0; i < c->n; i++) free(c->texts[i]);
    free(c->texts);
    free(c->lens);
}

static double thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int bench_tokenizer(int argc, char **argv) {
    int passes = 5, tokenizer_flag = 0;
    char default_paths[sizeof DEFAULT_DATA / sizeof DEFAULT_DATA[0]][1024];
    ArgList data = {0};
    ArgSpec specs[] = {
        {"tokenizer", ARG_FLAG, &tokenizer_flag, "         selects this benchmark"},
        {"data", ARG_LIST, &data, "FILE     JSON-lines shard to time (repeatable; default the C4 samples)"},
        {"passes", ARG_INT, &passes, "N        timed passes over the data (default 5)"},
    };
    int rc = args_parse(argc, argv, USAGE, specs, sizeof specs / sizeof specs[0], NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (passes < 1) {
        fprintf(stderr, "suite bench --tokenizer: --passes must be >= 1\n");
        return 2;
    }
    if (data.count == 0)
        for (size_t i = 0; i < sizeof DEFAULT_DATA / sizeof DEFAULT_DATA[0]; i++) {
            suite_path(default_paths[i], sizeof default_paths[i], DEFAULT_DATA[i]);
            data.items[data.count++] = default_paths[i];
        }
    char err[1024];
    Tokenizer *tok = tokenizer_load(NULL, err, sizeof err);
    Corpus corpus = {0};
    for (int i = 0; tok && i < data.count; i++)
        if (corpus_add_file(&corpus, data.items[i], err, sizeof err) != 0) {
            tokenizer_free(tok);
            tok = NULL;
        }
    if (!tok) {
        fprintf(stderr, "suite bench --tokenizer: %s\n", err);
        corpus_free(&corpus);
        return 1;
    }
    printf("GPT-2 BPE, 1 thread: %zu documents, %.2f MB of UTF-8 text, %d passes\n", corpus.n,
           corpus.bytes / 1e6, passes);
    double *mbps = mallocCheck((size_t)passes * sizeof *mbps);
    TokenIds ids = {0};
    size_t tokens = 0;
    for (int p = 0; p < passes; p++) {
        TokenizerSession *s = tokenizer_session_new(tok);
        tokens = 0;
        double t0 = thread_cpu_seconds();
        for (size_t d = 0; d < corpus.n; d++) {
            ids.len = 0;
            tokenizer_encode(s, corpus.texts[d], corpus.lens[d], &ids);
            tokens += ids.len;
        }
        double dt = thread_cpu_seconds() - t0;
        tokenizer_session_free(s);
        mbps[p] = corpus.bytes / 1e6 / dt;
        printf("  pass %d: %7.2f MB/s  %6.2f M tokens/s\n", p + 1, mbps[p], tokens / 1e6 / dt);
    }
    qsort(mbps, (size_t)passes, sizeof *mbps, compare_doubles);
    double median = mbps[passes / 2];
    printf("tokenizer: %.2f MB/s per core (thread CPU time, median of %d passes; %.2f M tokens/s, %zu tokens, %.2f bytes/token)\n",
           median, passes, median * tokens / corpus.bytes, tokens, (double)corpus.bytes / tokens);
    free(mbps);
    token_ids_free(&ids);
    corpus_free(&corpus);
    tokenizer_free(tok);
    return 0;
}
