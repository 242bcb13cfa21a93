// GPT-2 BPE (datasets/tokenizer.c) against reference ids:
//  * 10 Guardian documents of C4 with the GPT-2 ids OLMo ships for them;
//  * tests/data/tokenizer/cases.jsonl, 107 cases (contractions, digits, scripts,
//    marks, CJK, emoji, white space, invalid UTF-8) with ids from the npm
//    reference encoder gpt-3-encoder@1.1.4, made by make_cases.js beside it.
//    Invalid UTF-8 cannot be passed to that package's encode() (it takes a JS
//    string), so for those the script runs the package's own pattern, byte
//    alphabet and bpe() on the bytes, each invalid byte standing alone as a
//    non-letter, non-number, non-space character that maps back to itself --
//    OpenAI's encoder.py on bytes.decode("utf-8", "surrogateescape"). Three
//    cases with U+0085/U+FEFF use Python's White_Space \s (JavaScript's \s
//    differs there); see the README beside the cases;
//  * decode(encode(x)) == x for the 2000 C4 sample documents and random bytes;
//  * damaged vocabulary files (also merges out of GPT-2's id order, too few
//    merges for the vocab_size) and bad vocab_size values are refused with a
//    message naming file and line or the value.
// Reduced vocabularies are tested in test_tokenizer_reduced.c.
// Run from the repository root (make test does).
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "datasets/shard_reader.h"
#include "datasets/tokenizer.h"
#include "kernels/common.h"
#include "tests/testutil.h"

#define GUARDIAN "datasets/c4-sample/paloma-c4_100_domains-guardian.gpt2tokens.jsonl.gz"
#define CASES "tests/data/tokenizer/cases.jsonl"

static Tokenizer *tok;
static TokenizerSession *session;

static void setup(void) {
    char err[1024];
    tok = tokenizer_load(NULL, err, sizeof err);
    ck_assert_msg(tok != NULL, "%s", err);
    session = tokenizer_session_new(tok);
}

static void teardown(void) {
    tokenizer_session_free(session);
    tokenizer_free(tok);
}

static size_t base64_decode(const char *s, unsigned char *out) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        const char *p = strchr(alphabet, *s);
        ck_assert_msg(p != NULL, "bad base64 character '%c'", *s);
        acc = acc << 6 | (unsigned)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static TokenIds encode(const char *text, size_t len) {
    TokenIds ids = {0};
    tokenizer_encode(session, text, len, &ids);
    return ids;
}

static void assert_round_trip(const char *text, size_t len, const TokenIds *ids, const char *what) {
    size_t n, bad;
    char *back = tokenizer_decode(tok, ids->ids, ids->len, &n, &bad);
    ck_assert_ptr_nonnull(back);
    ck_assert_msg(n == len && memcmp(back, text, len) == 0, "%s: decode(encode(x)) != x", what);
    free(back);
}

START_TEST(guardian_documents_match_reference_ids) {
    gzFile f = gzopen(GUARDIAN, "rb");
    ck_assert_msg(f != NULL, "cannot open " GUARDIAN " (run from the repository root)");
    static char line[1 << 20];
    int docs = 0;
    size_t total = 0;
    while (gzgets(f, line, sizeof line)) {
        json_error_t jerr;
        json_t *doc = json_loads(line, 0, &jerr);
        ck_assert_msg(doc != NULL, "%s", jerr.text);
        json_t *text = json_object_get(doc, "text");
        const char *b64 = json_string_value(json_object_get(doc, "tokens"));
        unsigned char *raw = mallocCheck(strlen(b64));
        size_t nbytes = base64_decode(b64, raw);
        TokenIds ids = encode(json_string_value(text), json_string_length(text));
        ck_assert_uint_eq(ids.len, nbytes / 2);
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "token_length")), (json_int_t)ids.len);
        for (size_t i = 0; i < ids.len; i++) {
            int want = raw[2 * i] << 8 | raw[2 * i + 1];  // big-endian uint16
            ck_assert_msg(ids.ids[i] == want, "document %d, token %zu: %d, reference %d", docs, i,
                          ids.ids[i], want);
        }
        total += ids.len;
        docs++;
        token_ids_free(&ids);
        free(raw);
        json_decref(doc);
    }
    gzclose(f);
    ck_assert_int_eq(docs, 10);
    ck_assert_uint_eq(total, 6885);
}
END_TEST

START_TEST(reference_cases_match) {
    FILE *f = fopen(CASES, "r");
    ck_assert_msg(f != NULL, "cannot open " CASES " (run from the repository root)");
    char line[1 << 16];
    int cases = 0, invalid_utf8 = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t jerr;
        json_t *c = json_loads(line, JSON_ALLOW_NUL, &jerr);
        ck_assert_msg(c != NULL, "%s", jerr.text);
        const char *name = json_string_value(json_object_get(c, "name"));
        unsigned char bytes[4096];
        size_t n = base64_decode(json_string_value(json_object_get(c, "bytes_b64")), bytes);
        json_t *want = json_object_get(c, "ids");
        TokenIds ids = encode((const char *)bytes, n);
        ck_assert_msg(ids.len == json_array_size(want), "case '%s': %zu ids, reference %zu", name,
                      ids.len, json_array_size(want));
        for (size_t i = 0; i < ids.len; i++)
            ck_assert_msg(ids.ids[i] == json_integer_value(json_array_get(want, i)),
                          "case '%s', id %zu: %d, reference %lld", name, i, ids.ids[i],
                          (long long)json_integer_value(json_array_get(want, i)));
        assert_round_trip((const char *)bytes, n, &ids, name);
        invalid_utf8 += json_object_get(c, "text") == NULL;
        cases++;
        token_ids_free(&ids);
        json_decref(c);
    }
    fclose(f);
    ck_assert_int_ge(cases, 100);
    ck_assert_int_ge(invalid_utf8, 15);
}
END_TEST

START_TEST(endoftext_in_text_is_ordinary_text) {
    const char *text = "a<|endoftext|>b";
    TokenIds ids = encode(text, strlen(text));
    for (size_t i = 0; i < ids.len; i++) ck_assert_int_ne(ids.ids[i], GPT2_EOT);
    ck_assert_uint_gt(ids.len, 3);
    token_ids_free(&ids);
    size_t len;  // id 50256 itself spells the same characters
    const char *eot = tokenizer_token_bytes(tok, GPT2_EOT, &len);
    ck_assert(len == 13 && memcmp(eot, "<|endoftext|>", 13) == 0);
}
END_TEST

static void round_trip_file(const char *path, int expect_docs) {
    char err[1024];
    ShardReader *r = shard_reader_open(path, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    const char *text;
    size_t len;
    int docs = 0, got;
    while ((got = shard_reader_next(r, &text, &len, err, sizeof err)) == 1) {
        TokenIds ids = encode(text, len);
        assert_round_trip(text, len, &ids, path);
        token_ids_free(&ids);
        docs++;
    }
    ck_assert_msg(got == 0, "%s", err);
    ck_assert_int_eq(docs, expect_docs);
    shard_reader_close(r);
}

START_TEST(c4_samples_round_trip) {
    round_trip_file("datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz", 1000);
    round_trip_file("datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl", 1000);
}
END_TEST

// Arbitrary bytes (mostly invalid UTF-8, with spaces, quotes and letters mixed
// in to exercise every branch of the pattern) decode back to themselves.
START_TEST(random_bytes_round_trip) {
    uint64_t rng = 12345;
    static const char common[] = " 'sa1\n\xc3\xa9";
    for (int trial = 0; trial < 500; trial++) {
        char bytes[64];
        size_t n = test_rng_next(&rng) % sizeof bytes;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = test_rng_next(&rng);
            bytes[i] = (r & 1) ? (char)(r >> 8) : common[(r >> 8) % (sizeof common - 1)];
        }
        TokenIds ids = encode(bytes, n);
        for (size_t i = 0; i < ids.len; i++) ck_assert(ids.ids[i] >= 0 && ids.ids[i] < GPT2_EOT);
        assert_round_trip(bytes, n, &ids, "random bytes");
        token_ids_free(&ids);
    }
}
END_TEST

START_TEST(decode_rejects_out_of_range_ids) {
    int ids[] = {15496, GPT2_VOCAB_SIZE, 0};
    size_t len, bad = 99;
    ck_assert_ptr_null(tokenizer_decode(tok, ids, 3, &len, &bad));
    ck_assert_uint_eq(bad, 1);
    ck_assert_ptr_null(tokenizer_token_bytes(tok, -1, &len));
}
END_TEST

// A copy of the vocabulary in a temporary folder, with vocab.bpe replaced.
static void write_vocab_copy(char *dir, const char *merges_text) {
    strcpy(dir, "/tmp/mot-test-vocab-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[512], path[512];
    snprintf(cmd, sizeof cmd, "cp datasets/gpt2/encoder.json %s/", dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/vocab.bpe", dir);
    FILE *f = fopen(path, "w");
    fputs(merges_text, f);
    fclose(f);
}

static void remove_dir(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(damaged_vocabulary_is_refused) {
    char dir[64], err[1024];
    write_vocab_copy(dir, "#version: 0.2\n\xc4\xa0 t\nnot-a-token zzz\n");
    ck_assert_ptr_null(tokenizer_load(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "vocab.bpe:3:") != NULL, "message should name file and line: %s", err);
    remove_dir(dir);
    ck_assert_ptr_null(tokenizer_load("/nonexistent-gpt2", err, sizeof err));
    ck_assert_msg(strstr(err, "/nonexistent-gpt2/encoder.json") != NULL, "%s", err);
}
END_TEST

START_TEST(vocabulary_hash_tracks_the_files) {
    char dir[64], err[1024];
    write_vocab_copy(dir, "#version: 0.2\n\xc4\xa0 t\n");
    Tokenizer *other = tokenizer_open(dir, 258, err, sizeof err);  // one merge: all the copy has
    ck_assert_msg(other != NULL, "%s", err);
    Tokenizer *same_size = tokenizer_open(NULL, 258, err, sizeof err);
    ck_assert_msg(same_size != NULL, "%s", err);
    ck_assert(tokenizer_vocab_hash(other) != tokenizer_vocab_hash(same_size));
    tokenizer_free(other);
    tokenizer_free(same_size);
    remove_dir(dir);
}
END_TEST

START_TEST(merges_out_of_gpt2_order_or_too_few_are_refused) {
    char dir[64], err[1024];
    write_vocab_copy(dir, "#version: 0.2\n\xc4\xa0 a\n\xc4\xa0 t\n");  // rank 0 would make id 257
    ck_assert_ptr_null(tokenizer_open(dir, 300, err, sizeof err));
    ck_assert_msg(strstr(err, "vocab.bpe:2:") && strstr(err, "token 256"), "%s", err);
    remove_dir(dir);
    write_vocab_copy(dir, "#version: 0.2\n\xc4\xa0 t\n");
    ck_assert_ptr_null(tokenizer_load(dir, err, sizeof err));  // a truncated vocab.bpe
    ck_assert_msg(strstr(err, "1 merges, vocab_size 50257 needs 50000"), "%s", err);
    ck_assert_ptr_null(tokenizer_open(dir, 259, err, sizeof err));
    ck_assert_msg(strstr(err, "1 merges, vocab_size 259 needs 2"), "%s", err);
    remove_dir(dir);
}
END_TEST

START_TEST(vocab_size_out_of_range_is_refused) {
    char err[1024];
    static const int bad[] = {-1, 1, 256, 50258, 65536};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_ptr_null(tokenizer_open(NULL, bad[i], err, sizeof err));
        char want[32];
        snprintf(want, sizeof want, "vocab_size %d:", bad[i]);
        ck_assert_msg(strstr(err, want) && strstr(err, "257..50257"), "%s", err);
    }
    Tokenizer *full = tokenizer_open(NULL, 0, err, sizeof err);  // 0 means GPT-2's own
    ck_assert_msg(full != NULL, "%s", err);
    ck_assert_int_eq(tokenizer_vocab_size(full), GPT2_VOCAB_SIZE);
    ck_assert_int_eq(tokenizer_eot(full), GPT2_EOT);
    ck_assert(tokenizer_vocab_hash(full) == tokenizer_vocab_hash(tok));
    tokenizer_free(full);
}
END_TEST

int main(void) {
    Suite *s = suite_create("tokenizer");
    TCase *tc = tcase_create("gpt2");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, guardian_documents_match_reference_ids);
    tcase_add_test(tc, reference_cases_match);
    tcase_add_test(tc, endoftext_in_text_is_ordinary_text);
    tcase_add_test(tc, c4_samples_round_trip);
    tcase_add_test(tc, random_bytes_round_trip);
    tcase_add_test(tc, decode_rejects_out_of_range_ids);
    tcase_add_test(tc, damaged_vocabulary_is_refused);
    tcase_add_test(tc, vocabulary_hash_tracks_the_files);
    tcase_add_test(tc, merges_out_of_gpt2_order_or_too_few_are_refused);
    tcase_add_test(tc, vocab_size_out_of_range_is_refused);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
