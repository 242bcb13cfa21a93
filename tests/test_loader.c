// The data loader (datasets/dataset.c and the shard reader beneath it):
//  * the two bundled C4 samples load with their known GPT-2 token counts
//    (478,224 and 485,006 text tokens, plus one end-of-text per document);
//  * each kind of bad input -- corrupt or truncated gzip, a truncated JSON line,
//    a line without `text`, an empty shard -- stops with a message naming the
//    file and line, and with skip_bad is counted and skipped, never dropped silently;
//    the lines inflated before a corrupt gzip block are kept;
//  * text jansson alone refuses (raw non-UTF-8 bytes, lone surrogate escapes) is read
//    with U+FFFD in place of each defect;
//  * temporaries of killed cache writers are removed;
//  * token caches are reused when nothing changed and rebuilt when the source,
//    the vocabulary or the cache file itself changed.
// Run from the repository root (make test does).
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets/dataset.h"
#include "datasets/tokenizer.h"
#include "kernels/common.h"
#include "tests/testutil.h"

#define C4_VALIDATION "datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz"
#define C4_TRAIN "datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl"

static char tmp[64];        // per-test scratch folder: shards and the token cache
static char cache_dir[128];

static void setup(void) {
    strcpy(tmp, "/tmp/mot-test-loader-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(cache_dir, sizeof cache_dir, "%s/cache", tmp);
}

static void teardown(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static Dataset *open_with(const char *spec, int skip_bad, char *err, size_t errlen) {
    DatasetOptions opt = {.cache_dir = cache_dir, .skip_bad = skip_bad, .threads = 2, .quiet = 1};
    return dataset_open(spec, &opt, err, errlen);
}

static Dataset *open_ok(const char *spec, int skip_bad) {
    char err[1024];
    Dataset *ds = open_with(spec, skip_bad, err, sizeof err);
    ck_assert_msg(ds != NULL, "%s", err);
    return ds;
}

// Opening must fail, with a message containing every one of the given parts.
static void expect_error(const char *spec, const char *part1, const char *part2) {
    char err[1024] = "";
    Dataset *ds = open_with(spec, 0, err, sizeof err);
    ck_assert_msg(ds == NULL, "%s opened but should have failed", spec);
    ck_assert_msg(strstr(err, part1) && strstr(err, part2), "message '%s' should mention '%s' and '%s'",
                  err, part1, part2);
}

static void path_in_tmp(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmp, name); }

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

// Three one-line documents per gzip member; the member's text in out.
static void gzip_member(int first_doc, unsigned char *out, size_t *n) {
    char text[256] = "";
    for (int d = first_doc; d < first_doc + 3; d++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "{\"text\": \"document %d\"}\n", d);
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)text;
    z.avail_in = (uInt)strlen(text);
    z.next_out = out;
    z.avail_out = 1024;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *n = z.total_out;
    deflateEnd(&z);
}

// A .json.gz of three gzip members (9 documents). damage: 0 none, 1 break the
// middle member's deflate data, 2 cut the file inside the last member.
static void write_gzip_shard(const char *path, int damage) {
    unsigned char members[3][1024];
    size_t sizes[3];
    for (int m = 0; m < 3; m++) gzip_member(3 * m, members[m], &sizes[m]);
    if (damage == 1) members[1][10] = 0xff;  // first deflate byte: BTYPE=11, an invalid block
    if (damage == 2) sizes[2] /= 2;
    FILE *f = fopen(path, "wb");
    for (int m = 0; m < 3; m++) fwrite(members[m], 1, sizes[m], f);
    fclose(f);
}

START_TEST(c4_samples_have_known_token_counts) {
    Dataset *val = open_ok(C4_VALIDATION, 0);
    ck_assert_uint_eq(dataset_num_docs(val), 1000);
    ck_assert_uint_eq(dataset_num_tokens(val), 478224 + 1000);
    ck_assert_str_eq(dataset_label(val), "c4-sample");
    ck_assert_uint_eq(dataset_stats(val).text_bytes, 2173681);
    Dataset *train = open_ok(C4_TRAIN, 0);  // `timestamp`, and "\/" escapes in the JSON
    ck_assert_uint_eq(dataset_num_docs(train), 1000);
    ck_assert_uint_eq(dataset_num_tokens(train), 485006 + 1000);
    ck_assert_uint_eq(dataset_stats(train).text_bytes, 2200107);
    ck_assert_uint_eq(dataset_stats(train).skipped_lines, 0);

    // Document 0 of each is the known first C4 document of its shard.
    char err[1024];
    Tokenizer *tok = tokenizer_load(NULL, err, sizeof err);
    ck_assert_msg(tok != NULL, "%s", err);
    const char *first_words[2] = {"The woman who died after falling from a bridge over the A21",
                                  "Beginners BBQ Class Taking Place in Missoula!"};
    Dataset *both[2] = {val, train};
    for (int i = 0; i < 2; i++) {
        uint64_t n;
        const uint16_t *doc = dataset_document(both[i], 0, &n);
        ck_assert_int_eq(doc[n - 1], GPT2_EOT);
        int ids[32];
        for (int k = 0; k < 32; k++) ids[k] = doc[k];
        size_t len, bad;
        char *text = tokenizer_decode(tok, ids, 32, &len, &bad);
        ck_assert_msg(strncmp(text, first_words[i], strlen(first_words[i])) == 0, "document 0 starts '%s'", text);
        free(text);
    }
    tokenizer_free(tok);
    dataset_close(val);
    dataset_close(train);
}
END_TEST

START_TEST(directory_and_glob_specs) {
    char path[256], spec[256];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/shard-%d.jsonl", tmp, i);
        write_text(path, i == 0 ? "{\"text\": \"zero\"}\n" : i == 1 ? "{\"text\": \"one\"}\n{\"text\": \"two\"}\n" : "{\"text\": \"three\"}\n");
    }
    path_in_tmp(path, sizeof path, "README.md");  // not a shard: ignored by a directory scan
    write_text(path, "# notes\n");
    Dataset *dir = open_ok(tmp, 0);
    ck_assert_uint_eq(dataset_num_docs(dir), 4);
    ck_assert_int_eq(dataset_stats(dir).shards, 3);
    ck_assert_str_eq(dataset_label(dir), tmp + 5);  // "/tmp/" stripped: the folder's name
    snprintf(spec, sizeof spec, "%s/shard-[12].jsonl", tmp);
    Dataset *glob = open_ok(spec, 0);
    ck_assert_uint_eq(dataset_num_docs(glob), 3);
    // Stream order is path order: "one" is the first document of the glob.
    uint64_t n0, n1;
    dataset_document(glob, 0, &n0);
    dataset_document(dir, 1, &n1);
    ck_assert_uint_eq(n0, n1);
    dataset_close(dir);
    dataset_close(glob);
    snprintf(spec, sizeof spec, "%s/nothing-*.jsonl", tmp);
    expect_error(spec, spec, "matches no files");
    expect_error("/nonexistent/c4.json.gz", "/nonexistent/c4.json.gz", "no such file");
}
END_TEST

START_TEST(labels_name_the_corpus) {
    char path[256];
    path_in_tmp(path, sizeof path, "c4-validation.00000-of-00008.json");
    write_text(path, "{\"text\": \"a\"}\n");
    Dataset *ds = open_ok(path, 0);
    ck_assert_str_eq(dataset_label(ds), "c4");
    dataset_close(ds);
    path_in_tmp(path, sizeof path, "standin-validation.00000-of-00001.json");
    write_text(path, "{\"text\": \"a\"}\n");
    ds = open_ok(path, 0);
    ck_assert_str_eq(dataset_label(ds), "english-standin");
    dataset_close(ds);
    path_in_tmp(path, sizeof path, "mydata.jsonl");
    write_text(path, "{\"text\": \"a\"}\n");
    ds = open_ok(path, 0);
    ck_assert_str_eq(dataset_label(ds), "mydata");
    dataset_close(ds);
}
END_TEST

START_TEST(multi_member_gzip_reads_all_members) {
    char path[256];
    path_in_tmp(path, sizeof path, "good.json.gz");
    write_gzip_shard(path, 0);
    Dataset *ds = open_ok(path, 0);
    ck_assert_uint_eq(dataset_num_docs(ds), 9);
    dataset_close(ds);
}
END_TEST

START_TEST(corrupt_gzip_member) {
    char path[256];
    path_in_tmp(path, sizeof path, "corrupt.json.gz");
    write_gzip_shard(path, 1);
    expect_error(path, path, "corrupt gzip data");
    expect_error(path, "after line 3", "--skip-bad");
    Dataset *ds = open_ok(path, 1);  // the members before and after the damage survive
    ck_assert_uint_eq(dataset_num_docs(ds), 6);
    ck_assert_uint_eq(dataset_stats(ds).skipped_lines, 1);
    dataset_close(ds);
}
END_TEST

START_TEST(truncated_gzip) {
    char path[256];
    path_in_tmp(path, sizeof path, "truncated.json.gz");
    write_gzip_shard(path, 2);
    expect_error(path, path, "ends early");
    Dataset *ds = open_ok(path, 1);
    ck_assert_uint_ge(dataset_num_docs(ds), 6);  // the cut member may have delivered a line or two
    ck_assert_uint_le(dataset_num_docs(ds), 8);
    ck_assert_uint_eq(dataset_stats(ds).skipped_lines, 1);
    dataset_close(ds);
}
END_TEST

START_TEST(truncated_json_line) {
    char path[256];
    path_in_tmp(path, sizeof path, "cut.jsonl");
    write_text(path, "{\"text\": \"a\"}\n{\"text\": \"b\"}\n\n{\"text\": \"c\"}\n{\"text\": \"unfinish");
    char where[300];
    snprintf(where, sizeof where, "%s:5:", path);  // the blank line 3 is counted, not a document
    expect_error(path, where, "malformed JSON");
    Dataset *ds = open_ok(path, 1);
    ck_assert_uint_eq(dataset_num_docs(ds), 3);
    ck_assert_uint_eq(dataset_stats(ds).skipped_lines, 1);
    dataset_close(ds);
}
END_TEST

START_TEST(missing_text_field) {
    char path[256];
    path_in_tmp(path, sizeof path, "notext.jsonl");
    write_text(path, "{\"text\": \"a\"}\n{\"url\": \"http://x\"}\n{\"text\": 7}\n{\"text\": \"d\"}\n");
    char where[300];
    snprintf(where, sizeof where, "%s:2:", path);
    expect_error(path, where, "no \"text\" string field");
    Dataset *ds = open_ok(path, 1);
    ck_assert_uint_eq(dataset_num_docs(ds), 2);
    ck_assert_uint_eq(dataset_stats(ds).skipped_lines, 2);
    dataset_close(ds);
}
END_TEST

START_TEST(empty_shard) {
    char path[256], other[256];
    path_in_tmp(path, sizeof path, "a-empty.jsonl");
    write_text(path, "");
    expect_error(path, path, "no documents");
    path_in_tmp(other, sizeof other, "b-full.jsonl");
    write_text(other, "{\"text\": \"x\"}\n");
    Dataset *ds = open_ok(tmp, 1);  // the directory: the empty shard is skipped and counted
    ck_assert_uint_eq(dataset_num_docs(ds), 1);
    ck_assert_int_eq(dataset_stats(ds).empty_shards, 1);
    ck_assert_int_eq(dataset_stats(ds).shards, 2);
    dataset_close(ds);
    // Its cache (written under skip_bad) must not make it pass silently later.
    expect_error(tmp, path, "--skip-bad");
}
END_TEST

static void set_mtime_later(const char *path) {
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    times[1].tv_sec += 10;
    ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

START_TEST(cache_reused_and_invalidated) {
    char path[256];
    path_in_tmp(path, sizeof path, "docs.jsonl");
    write_text(path, "{\"text\": \"Hello world\"}\n{\"text\": \"second\"}\n");
    Dataset *ds = open_ok(path, 0);
    ck_assert_int_eq(dataset_stats(ds).shards_tokenized, 1);
    uint64_t tokens = dataset_num_tokens(ds);
    dataset_close(ds);

    ds = open_ok(path, 0);  // unchanged: reused
    ck_assert_int_eq(dataset_stats(ds).shards_tokenized, 0);
    ck_assert_uint_eq(dataset_num_tokens(ds), tokens);
    dataset_close(ds);

    write_text(path, "{\"text\": \"Hello world\"}\n{\"text\": \"second\"}\n{\"text\": \"third\"}\n");
    set_mtime_later(path);  // the rewrite may fall in the same mtime tick; the size changed anyway
    ds = open_ok(path, 0);
    ck_assert_int_eq(dataset_stats(ds).shards_tokenized, 1);
    ck_assert_uint_eq(dataset_num_docs(ds), 3);
    dataset_close(ds);

    set_mtime_later(path);  // touched, same content: still rebuilt (mtime is part of the fingerprint)
    ds = open_ok(path, 0);
    ck_assert_int_eq(dataset_stats(ds).shards_tokenized, 1);
    dataset_close(ds);
}
END_TEST

// The one .tok file in the cache folder.
static void find_cache_file(char *out, size_t n) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.tok", cache_dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(fgets(out, (int)n, p));
    pclose(p);
    out[strcspn(out, "\n")] = '\0';
}

START_TEST(damaged_cache_is_rebuilt_and_tok_opens_directly) {
    char path[256], tok_path[512];
    path_in_tmp(path, sizeof path, "c4-validation.00001-of-00008.json");
    write_text(path, "{\"text\": \"one two three\"}\n{\"text\": \"four\"}\n");
    Dataset *ds = open_ok(path, 0);
    uint64_t tokens = dataset_num_tokens(ds);
    dataset_close(ds);
    find_cache_file(tok_path, sizeof tok_path);

    Dataset *direct = open_ok(tok_path, 0);  // a .tok spec: no source needed, label kept
    ck_assert_uint_eq(dataset_num_tokens(direct), tokens);
    ck_assert_uint_eq(dataset_num_docs(direct), 2);
    ck_assert_str_eq(dataset_label(direct), "c4");
    dataset_close(direct);

    ck_assert_int_eq(truncate(tok_path, 100), 0);  // inside the header
    expect_error(tok_path, tok_path, "damaged token cache");
    ds = open_ok(path, 0);
    ck_assert_int_eq(dataset_stats(ds).shards_tokenized, 1);
    ck_assert_uint_eq(dataset_num_tokens(ds), tokens);
    dataset_close(ds);

    struct stat st;  // drop the last document offset: sizes no longer match the header
    ck_assert_int_eq(stat(tok_path, &st), 0);
    ck_assert_int_eq(truncate(tok_path, st.st_size - 8), 0);
    expect_error(tok_path, tok_path, "truncated");
}
END_TEST

START_TEST(vocabulary_change_rebuilds_cache) {
    char path[256], vocab[256], cmd[1024];
    path_in_tmp(path, sizeof path, "v.jsonl");
    write_text(path, "{\"text\": \"vocabulary\"}\n");
    Dataset *ds = open_ok(path, 0);
    dataset_close(ds);
    // Same merges plus a trailing blank line: a different file, so a different hash.
    path_in_tmp(vocab, sizeof vocab, "gpt2");
    snprintf(cmd, sizeof cmd, "mkdir %s && cp datasets/gpt2/encoder.json datasets/gpt2/vocab.bpe %s/ && echo >> %s/vocab.bpe",
             vocab, vocab, vocab);
    ck_assert_int_eq(system(cmd), 0);
    setenv("MOT_GPT2_DIR", vocab, 1);
    ds = open_ok(path, 0);
    unsetenv("MOT_GPT2_DIR");
    ck_assert_int_eq(dataset_stats(ds).shards_tokenized, 1);
    dataset_close(ds);
}
END_TEST

// A member whose deflate data breaks midway: four lines inflate, then a block
// header with the invalid type 11 (0xff right after a full flush, which ends on
// a byte boundary).
static void gzip_member_broken_midway(unsigned char *out, size_t *n) {
    char before[256] = "", after[256] = "";
    for (int d = 100; d < 104; d++)
        snprintf(before + strlen(before), sizeof before - strlen(before), "{\"text\": \"document %d\"}\n", d);
    for (int d = 104; d < 108; d++)
        snprintf(after + strlen(after), sizeof after - strlen(after), "{\"text\": \"document %d\"}\n", d);
    z_stream z = {0};
    ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_out = out;
    z.avail_out = 1024;
    z.next_in = (unsigned char *)before;
    z.avail_in = (uInt)strlen(before);
    ck_assert_int_eq(deflate(&z, Z_FULL_FLUSH), Z_OK);
    size_t damage_at = z.total_out;
    z.next_in = (unsigned char *)after;
    z.avail_in = (uInt)strlen(after);
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *n = z.total_out;
    deflateEnd(&z);
    out[damage_at] = 0xff;
}

// The lines inflated before the damage are read: the error names the line after
// them, and skip_bad keeps them.
START_TEST(corrupt_gzip_keeps_lines_before_the_damage) {
    unsigned char members[3][1024];
    size_t sizes[3];
    gzip_member(0, members[0], &sizes[0]);
    gzip_member_broken_midway(members[1], &sizes[1]);
    gzip_member(3, members[2], &sizes[2]);
    char path[256];
    path_in_tmp(path, sizeof path, "midway.json.gz");
    FILE *f = fopen(path, "wb");
    for (int m = 0; m < 3; m++) fwrite(members[m], 1, sizes[m], f);
    fclose(f);
    expect_error(path, "corrupt gzip data", "after line 7");
    Dataset *ds = open_ok(path, 1);
    ck_assert_uint_eq(dataset_num_docs(ds), 3 + 4 + 3);
    ck_assert_uint_eq(dataset_stats(ds).skipped_lines, 1);
    dataset_close(ds);
}
END_TEST

// Lines jansson alone refuses load, with U+FFFD where the text could not be decoded.
START_TEST(undecodable_text_is_replaced) {
    char path[256], err[1024];
    path_in_tmp(path, sizeof path, "quirks.jsonl");
    write_text(path, "{\"text\": \"caf\xff \\ud800 ok\"}\n{\"text\": \"\xfe\xfe\"}\n{\"text\": \"fine\"}\n");
    Dataset *ds = open_ok(path, 0);
    ck_assert_uint_eq(dataset_num_docs(ds), 3);
    ck_assert_uint_eq(dataset_stats(ds).skipped_lines, 0);
    Tokenizer *tok = tokenizer_load(NULL, err, sizeof err);
    ck_assert_msg(tok != NULL, "%s", err);
    const char *want[2] = {"caf\xef\xbf\xbd \xef\xbf\xbd ok", "\xef\xbf\xbd\xef\xbf\xbd"};
    for (int d = 0; d < 2; d++) {
        uint64_t n;
        const uint16_t *doc = dataset_document(ds, (uint64_t)d, &n);
        int ids[64];
        ck_assert_uint_lt(n, 64);
        for (uint64_t k = 0; k + 1 < n; k++) ids[k] = doc[k];  // without end-of-text
        size_t len, bad;
        char *text = tokenizer_decode(tok, ids, n - 1, &len, &bad);
        ck_assert_msg(len == strlen(want[d]) && !memcmp(text, want[d], len), "doc %d: '%s'", d, text);
        free(text);
    }
    tokenizer_free(tok);
    dataset_close(ds);
}
END_TEST

static void write_aged(const char *dir, const char *name, long age_s) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_text(path, "partial");
    struct timespec times[2] = {{.tv_nsec = UTIME_NOW}, {.tv_sec = time(NULL) - age_s}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

static int exists_in(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

// Writers killed mid-write leave temporaries; the next write removes those whose
// pid is gone and that have not changed for 10 minutes, and nothing else.
START_TEST(stale_cache_temporaries_are_removed) {
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
    ck_assert_int_eq(mkdir(cache_dir, 0755), 0);
    char stale[4][128], kept[4][128];
    snprintf(stale[0], 128, "a.jsonl.0123.v50257.tok.tmp.%d.0", (int)dead);
    snprintf(stale[1], 128, "b.jsonl.4567.tok.%d.tmp", (int)dead);  // older builds' name
    snprintf(kept[0], 128, "c.jsonl.89ab.v50257.tok.tmp.%d.3", (int)dead);  // fresh: maybe another host's
    snprintf(kept[1], 128, "d.jsonl.cdef.v50257.tok.tmp.%d.0", (int)getpid());  // alive
    snprintf(kept[2], 128, "notes.txt.tmp.%d.0", (int)dead);  // not a token cache's
    write_aged(cache_dir, stale[0], 3600);
    write_aged(cache_dir, stale[1], 3600);
    write_aged(cache_dir, kept[0], 5);
    write_aged(cache_dir, kept[1], 3600);
    write_aged(cache_dir, kept[2], 3600);
    char path[256];
    path_in_tmp(path, sizeof path, "new.jsonl");
    write_text(path, "{\"text\": \"a new shard\"}\n");
    dataset_close(open_ok(path, 0));
    for (int i = 0; i < 2; i++) ck_assert_msg(!exists_in(cache_dir, stale[i]), "%s kept", stale[i]);
    for (int i = 0; i < 3; i++) ck_assert_msg(exists_in(cache_dir, kept[i]), "%s removed", kept[i]);
}
END_TEST

int main(void) {
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("dataset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, c4_samples_have_known_token_counts);
    tcase_add_test(tc, directory_and_glob_specs);
    tcase_add_test(tc, labels_name_the_corpus);
    tcase_add_test(tc, multi_member_gzip_reads_all_members);
    tcase_add_test(tc, corrupt_gzip_member);
    tcase_add_test(tc, truncated_gzip);
    tcase_add_test(tc, truncated_json_line);
    tcase_add_test(tc, missing_text_field);
    tcase_add_test(tc, empty_shard);
    tcase_add_test(tc, cache_reused_and_invalidated);
    tcase_add_test(tc, damaged_cache_is_rebuilt_and_tok_opens_directly);
    tcase_add_test(tc, vocabulary_change_rebuilds_cache);
    tcase_add_test(tc, corrupt_gzip_keeps_lines_before_the_damage);
    tcase_add_test(tc, undecodable_text_is_replaced);
    tcase_add_test(tc, stale_cache_temporaries_are_removed);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
