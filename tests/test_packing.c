// Batches (datasets/packer.c). On a synthetic token cache whose document d is
// the id d+1 repeated LEN(d) times then end-of-text, every window can be read
// back as a sequence of documents, so the tests check that random training
// windows are cut from whole documents packed end to end, that they depend
// only on (seed, rank) and the packer state, and that evaluation batches are
// exactly the file-order stream, across shard boundaries and around the end.
// Token caches are keyed by the vocabulary size: a reduced vocabulary gets its
// own cache (ids below V-1, documents ending in V-1) beside the full one.
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "datasets/token_cache.h"
#include "datasets/tokenizer.h"
#include "kernels/common.h"
#include "tests/testutil.h"

enum { N_DOCS = 50 };
#define LEN(d) (1 + ((d) * 37) % 97)  // 1..97 content tokens, all lengths distinct enough

static char tmp[64];
static Dataset *ds;

static void setup(void) {
    strcpy(tmp, "/tmp/mot-test-packing-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char path[128], err[1024];
    snprintf(path, sizeof path, "%s/synthetic.tok", tmp);
    TokCacheWriter *w = tok_cache_writer_begin(path, GPT2_VOCAB_SIZE, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    int ids[128];
    for (int d = 0; d < N_DOCS; d++) {
        for (int k = 0; k < LEN(d); k++) ids[k] = d + 1;
        ck_assert_int_eq(tok_cache_writer_add_doc(w, ids, (size_t)LEN(d), err, sizeof err), 0);
    }
    TokCacheHeader meta = {0};
    snprintf(meta.label, sizeof meta.label, "synthetic");
    ck_assert_int_eq(tok_cache_writer_finish(w, &meta, err, sizeof err), 0);
    ds = dataset_open(path, NULL, err, sizeof err);
    ck_assert_msg(ds != NULL, "%s", err);
}

static void teardown(void) {
    dataset_close(ds);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

// Row b of a batch as its T+1 window tokens, checking targets = tokens shifted.
static void window_of(const int *tokens, const int *targets, int b, int T, int *window) {
    for (int t = 0; t < T; t++) {
        window[t] = tokens[b * T + t];
        if (t > 0) ck_assert_int_eq(targets[b * T + t - 1], window[t]);
        ck_assert(window[t] >= 0 && window[t] < GPT2_VOCAB_SIZE);
    }
    window[T] = targets[b * T + T - 1];
}

START_TEST(windows_are_whole_documents_packed_end_to_end) {
    enum { B = 32, T = 64, BATCHES = 40 };
    int tokens[B * T], targets[B * T], window[T + 1];
    int seen[N_DOCS + 1] = {0};
    Packer p;
    packer_init(&p, 7, 0);
    for (int batch = 0; batch < BATCHES; batch++) {
        dataset_sample_batch(ds, &p, B, T, tokens, targets);
        for (int b = 0; b < B; b++) {
            window_of(tokens, targets, b, T, window);
            // Split into runs at end-of-text: every run is one document's ids;
            // a run closed on both sides must be the whole document.
            int start = 0;
            for (int t = 0; t <= T; t++) {
                if (window[t] != GPT2_EOT && t < T) continue;
                int end = window[t] == GPT2_EOT ? t : T + 1;  // [start, end) is one run
                for (int k = start; k < end; k++) {
                    ck_assert_int_eq(window[k], window[start]);
                    ck_assert(window[k] >= 1 && window[k] <= N_DOCS);
                }
                if (end > start) {
                    int doc = window[start] - 1;
                    int closed = start > 0 && end <= T && window[end] == GPT2_EOT;
                    if (closed) ck_assert_int_eq(end - start, LEN(doc));
                    else ck_assert_int_le(end - start, LEN(doc));
                    seen[doc]++;
                }
                start = t + 1;
            }
        }
    }
    for (int d = 0; d < N_DOCS; d++) ck_assert_msg(seen[d] > 0, "document %d never sampled", d);
}
END_TEST

START_TEST(deterministic_per_seed_and_rank) {
    enum { B = 4, T = 32 };
    int a[B * T], at[B * T], b[B * T], bt[B * T];
    Packer p, q;
    packer_init(&p, 1234, 0);
    packer_init(&q, 1234, 0);
    for (int i = 0; i < 3; i++) {
        dataset_sample_batch(ds, &p, B, T, a, at);
        dataset_sample_batch(ds, &q, B, T, b, bt);
        ck_assert_mem_eq(a, b, sizeof a);
        ck_assert_mem_eq(at, bt, sizeof at);
    }
    packer_init(&p, 1234, 0);
    packer_init(&q, 1234, 1);  // another rank: its own stream
    dataset_sample_batch(ds, &p, B, T, a, at);
    dataset_sample_batch(ds, &q, B, T, b, bt);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    packer_init(&q, 1235, 0);  // another seed
    dataset_sample_batch(ds, &q, B, T, b, bt);
    ck_assert(memcmp(a, b, sizeof a) != 0);
}
END_TEST

// The Packer state is all there is: a copy taken mid-run (as a checkpoint
// stores it) continues exactly like the original.
START_TEST(resume_from_saved_state) {
    enum { B = 4, T = 16 };
    int a[B * T], at[B * T], b[B * T], bt[B * T];
    Packer p;
    packer_init(&p, 99, 3);
    dataset_sample_batch(ds, &p, B, T, a, at);
    Packer saved = p;
    dataset_sample_batch(ds, &p, B, T, a, at);
    dataset_sample_batch(ds, &saved, B, T, b, bt);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(at, bt, sizeof at);
}
END_TEST

// The concatenated stream, built from the documents in order.
static int *stream_of(const Dataset *d, uint64_t *n) {
    *n = dataset_num_tokens(d);
    int *stream = mallocCheck(*n * sizeof *stream);
    uint64_t at = 0;
    for (uint64_t doc = 0; doc < dataset_num_docs(d); doc++) {
        uint64_t len;
        const uint16_t *ids = dataset_document(d, doc, &len);
        ck_assert_int_eq(ids[len - 1], GPT2_EOT);
        for (uint64_t k = 0; k < len; k++) stream[at++] = ids[k];
    }
    ck_assert_uint_eq(at, *n);
    return stream;
}

static void check_sequential(const Dataset *d, int B, int T, uint64_t first_index, int batches) {
    uint64_t n;
    int *stream = stream_of(d, &n);
    int *tokens = mallocCheck((size_t)B * T * sizeof *tokens);
    int *targets = mallocCheck((size_t)B * T * sizeof *targets);
    for (uint64_t index = first_index; index < first_index + (uint64_t)batches; index++) {
        dataset_sequential_batch(d, index, B, T, tokens, targets);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                uint64_t pos = ((index * (uint64_t)B + (uint64_t)b) * (uint64_t)T + (uint64_t)t) % n;
                ck_assert_int_eq(tokens[b * T + t], stream[pos]);
                ck_assert_int_eq(targets[b * T + t], stream[(pos + 1) % n]);
            }
    }
    free(stream);
    free(tokens);
    free(targets);
}

START_TEST(sequential_batches_follow_the_stream) {
    // 2,454 tokens: batches of 4 x 50 wrap around the end from index 12 on.
    ck_assert_uint_eq(dataset_num_tokens(ds), 2454);
    check_sequential(ds, 4, 50, 0, 16);
    check_sequential(ds, 3, 7, 1000000007ull, 2);  // far beyond the end: still the stream mod n
}
END_TEST

START_TEST(sequential_batches_cross_shards) {
    char dir[128], path[160], err[1024];
    snprintf(dir, sizeof dir, "%s/shards", tmp);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    static const char *const shards[] = {
        "{\"text\": \"The first shard has two documents.\"}\n{\"text\": \"Here is the second.\"}\n",
        "{\"text\": \"A middle shard.\"}\n",
        "{\"text\": \"And the last one, with a few more words in it than the others.\"}\n"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/part-%d.jsonl", dir, i);
        FILE *f = fopen(path, "w");
        fputs(shards[i], f);
        fclose(f);
    }
    char cache[160];
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    DatasetOptions opt = {.cache_dir = cache, .quiet = 1};
    Dataset *multi = dataset_open(dir, &opt, err, sizeof err);
    ck_assert_msg(multi != NULL, "%s", err);
    ck_assert_int_eq(dataset_stats(multi).shards, 3);
    ck_assert_uint_eq(dataset_num_docs(multi), 4);
    check_sequential(multi, 2, 5, 0, 6);
    dataset_close(multi);
}
END_TEST

START_TEST(c4_sample_batches_are_valid) {
    char err[1024];
    DatasetOptions opt = {.cache_dir = tmp, .quiet = 1};
    Dataset *c4 = dataset_open("datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz", &opt, err, sizeof err);
    ck_assert_msg(c4 != NULL, "%s (run from the repository root)", err);
    enum { B = 8, T = 256 };
    static int tokens[B * T], targets[B * T], window[T + 1];
    Packer p;
    packer_init(&p, 1, 0);
    dataset_sample_batch(c4, &p, B, T, tokens, targets);
    int eots = 0;
    for (int b = 0; b < B; b++) {
        window_of(tokens, targets, b, T, window);
        for (int t = 0; t <= T; t++) eots += window[t] == GPT2_EOT;
    }
    // C4 documents average ~480 tokens: some windows cross a document boundary.
    ck_assert_int_gt(eots, 0);
    ck_assert_int_lt(eots, B * 4);
    dataset_close(c4);
}
END_TEST

static Dataset *open_with_vocab(const char *spec, const char *cache, int vocab_size) {
    char err[1024];
    DatasetOptions opt = {.cache_dir = cache, .quiet = 1, .vocab_size = vocab_size};
    Dataset *d = dataset_open(spec, &opt, err, sizeof err);
    ck_assert_msg(d != NULL, "vocab_size %d: %s", vocab_size, err);
    return d;
}

static int count_files(const char *pattern) {
    glob_t g;
    int n = glob(pattern, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
    globfree(&g);
    return n;
}

// Each document is text followed by end-of-text V-1, and decodes back to it.
static void check_documents(const Dataset *d, const char *const *docs, int n_docs, int V) {
    char err[1024];
    Tokenizer *tok = tokenizer_open(NULL, V, err, sizeof err);
    ck_assert_msg(tok != NULL, "%s", err);
    ck_assert_int_eq(dataset_vocab_size(d), V);
    ck_assert_uint_eq(dataset_num_docs(d), (uint64_t)n_docs);
    for (int doc = 0; doc < n_docs; doc++) {
        uint64_t len;
        const uint16_t *ids = dataset_document(d, (uint64_t)doc, &len);
        ck_assert_int_eq(ids[len - 1], V - 1);
        int text_ids[256];
        for (uint64_t k = 0; k + 1 < len; k++) {
            ck_assert_int_lt(ids[k], V - 1);
            text_ids[k] = ids[k];
        }
        size_t n, bad;
        char *text = tokenizer_decode(tok, text_ids, len - 1, &n, &bad);
        ck_assert_str_eq(text, docs[doc]);
        free(text);
    }
    tokenizer_free(tok);
}

START_TEST(caches_are_keyed_by_vocab_size) {
    static const char *const docs[] = {"Tokenizers with fewer merges write more tokens per word.",
                                       "A second document, zebra-striped."};
    char shard[128], cache[128], pattern[160], tok_path[160], err[1024];
    snprintf(shard, sizeof shard, "%s/vocab.jsonl", tmp);
    snprintf(cache, sizeof cache, "%s/vocab-cache", tmp);
    FILE *f = fopen(shard, "w");
    for (int i = 0; i < 2; i++) fprintf(f, "{\"text\": \"%s\"}\n", docs[i]);
    fclose(f);
    Dataset *full = open_with_vocab(shard, cache, 0);
    ck_assert_int_eq(dataset_stats(full).shards_tokenized, 1);
    check_documents(full, docs, 2, GPT2_VOCAB_SIZE);
    Dataset *reduced = open_with_vocab(shard, cache, 300);  // not the 50257 cache
    ck_assert_int_eq(dataset_stats(reduced).shards_tokenized, 1);
    check_documents(reduced, docs, 2, 300);
    ck_assert_uint_gt(dataset_num_tokens(reduced), dataset_num_tokens(full));
    dataset_close(full);
    dataset_close(reduced);
    snprintf(pattern, sizeof pattern, "%s/vocab.jsonl.*.v300.tok", cache);
    ck_assert_int_eq(count_files(pattern), 1);
    snprintf(pattern, sizeof pattern, "%s/vocab.jsonl.*.v50257.tok", cache);
    ck_assert_int_eq(count_files(pattern), 1);
    static const int sizes[] = {GPT2_VOCAB_SIZE, 300};  // both reused from now on
    for (int i = 0; i < 2; i++) {
        Dataset *again = open_with_vocab(shard, cache, sizes[i]);
        ck_assert_int_eq(dataset_stats(again).shards_tokenized, 0);
        check_documents(again, docs, 2, sizes[i]);
        dataset_close(again);
    }
    // A .tok opened directly must be of the vocabulary asked for.
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/vocab.jsonl.*.v300.tok", cache);
    ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
    snprintf(tok_path, sizeof tok_path, "%s", g.gl_pathv[0]);
    globfree(&g);
    ck_assert_ptr_null(dataset_open(tok_path, NULL, err, sizeof err));
    ck_assert_msg(strstr(err, "vocab_size 300, but 50257 was asked for"), "%s", err);
    Dataset *direct = open_with_vocab(tok_path, NULL, 300);
    check_documents(direct, docs, 2, 300);
    dataset_close(direct);
}
END_TEST

START_TEST(cache_writer_refuses_ids_outside_the_vocabulary) {
    char path[128], err[1024];
    snprintf(path, sizeof path, "%s/bad.tok", tmp);
    TokCacheWriter *w = tok_cache_writer_begin(path, 300, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    int ids[] = {5, 299};  // 299 is end-of-text, which only the writer appends
    ck_assert_int_eq(tok_cache_writer_add_doc(w, ids, 2, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "id 299 outside [0, 299)"), "%s", err);
    tok_cache_writer_abort(w);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_ptr_null(tok_cache_writer_begin(path, 70000, err, sizeof err));
    ck_assert_msg(strstr(err, "vocab_size 70000"), "%s", err);
}
END_TEST

int main(void) {
    Suite *s = suite_create("packing");
    TCase *tc = tcase_create("batches");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, windows_are_whole_documents_packed_end_to_end);
    tcase_add_test(tc, deterministic_per_seed_and_rank);
    tcase_add_test(tc, resume_from_saved_state);
    tcase_add_test(tc, sequential_batches_follow_the_stream);
    tcase_add_test(tc, sequential_batches_cross_shards);
    tcase_add_test(tc, c4_sample_batches_are_valid);
    tcase_add_test(tc, caches_are_keyed_by_vocab_size);
    tcase_add_test(tc, cache_writer_refuses_ids_outside_the_vocabulary);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
