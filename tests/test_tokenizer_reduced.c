// Reduced GPT-2 vocabularies (datasets/tokenizer.h): the 256 byte tokens, the
// first K merges of vocab.bpe, end-of-text V-1 = 256+K. Checked against
//  * a naive re-merging written here from encoder.json and vocab.bpe: the
//    bpe() loop of OpenAI's encoder.py (take the adjacent pair of lowest rank,
//    merge every occurrence of it left to right) restricted to ranks < K, ids
//    looked up in encoder.json -- on every piece of C4 documents and of the
//    reference cases (invalid UTF-8 included);
//  * the full tokenizer, piece by piece: where the full ids of a piece all lie
//    below 256+K the reduced ids are the same (a merge only ever makes an id
//    above both of its parts, so such a piece used no merge of rank >= K), and
//    elsewhere they differ;
//  * K = 0: one id per byte;
//  * every V: ids below V-1, decode(encode(x)) == x, end-of-text V-1 spells
//    <|endoftext|>, ids below V-1 spell what GPT-2's same ids spell.
// Run from the repository root (make test does).
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "datasets/pretokenize.h"
#include "datasets/shard_reader.h"
#include "datasets/tokenizer.h"
#include "kernels/base/check.h"
#include "tests/testutil.h"

#define C4_VAL "datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz"
#define CASES "tests/data/tokenizer/cases.jsonl"
enum { N_DOCS = 60, MAX_CASES = 200 };

// Texts to tokenize: the first N_DOCS C4 documents, then the reference cases.
static char *texts[N_DOCS + MAX_CASES];
static size_t text_len[N_DOCS + MAX_CASES];
static int n_texts;

static json_t *encoder;  // spelling -> GPT-2 id
static json_t *ranks;    // "left right" -> merge rank, all of vocab.bpe
static char spelling_of_byte[256][3];  // GPT-2's one-character spelling of each byte, UTF-8
static Tokenizer *full;

// GPT-2's byte alphabet, written out independently of datasets/tokenizer.c:
// printable Latin-1 bytes stand for themselves, the other 68 are U+0100.. in order.
static void make_byte_spellings(void) {
    int next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        int cp = printable ? b : next++;
        char *s = spelling_of_byte[b];
        if (cp < 0x80) {
            s[0] = (char)cp, s[1] = 0;
        } else {
            s[0] = (char)(0xC0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3F)), s[2] = 0;
        }
    }
}

static void load_ranks(void) {
    FILE *f = fopen("datasets/gpt2/vocab.bpe", "r");
    ck_assert_msg(f != NULL, "cannot open datasets/gpt2/vocab.bpe (run from the repository root)");
    ranks = json_object();
    char line[1024];
    int rank = 0;
    ck_assert(fgets(line, sizeof line, f) && !strncmp(line, "#version", 8));  // merges may start with '#'
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0') continue;
        json_object_set_new(ranks, line, json_integer(rank++));
    }
    fclose(f);
    ck_assert_int_eq(rank, 50000);
}

static void add_text(const char *bytes, size_t n) {
    ck_assert_int_lt(n_texts, N_DOCS + MAX_CASES);
    texts[n_texts] = mallocCheck(n + 1);
    memcpy(texts[n_texts], bytes, n);
    text_len[n_texts++] = n;
}

static void load_texts(void) {
    char err[1024];
    ShardReader *r = shard_reader_open(C4_VAL, 0, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    const char *text;
    size_t len;
    while (n_texts < N_DOCS && shard_reader_next(r, &text, &len, err, sizeof err) == 1) add_text(text, len);
    shard_reader_close(r);
    FILE *f = fopen(CASES, "r");
    ck_assert_msg(f != NULL, "cannot open " CASES);
    static char line[1 << 16];
    while (fgets(line, sizeof line, f)) {
        json_t *c = json_loads(line, JSON_ALLOW_NUL, NULL);
        ck_assert_ptr_nonnull(c);
        const char *b64 = json_string_value(json_object_get(c, "bytes_b64"));
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char bytes[4096];
        size_t n = 0;
        unsigned acc = 0;
        int bits = 0;
        for (const char *p = b64; *p && *p != '='; p++) {
            acc = acc << 6 | (unsigned)(strchr(alphabet, *p) - alphabet);
            if ((bits += 6) >= 8) bytes[n++] = (char)(acc >> (bits -= 8));
        }
        add_text(bytes, n);
        json_decref(c);
    }
    fclose(f);
}

static void setup(void) {
    char err[1024];
    full = tokenizer_load(NULL, err, sizeof err);
    ck_assert_msg(full != NULL, "%s", err);
    json_error_t jerr;
    encoder = json_load_file("datasets/gpt2/encoder.json", 0, &jerr);
    ck_assert_msg(encoder != NULL, "%s", jerr.text);
    make_byte_spellings();
    load_ranks();
    load_texts();
}

static void teardown(void) {
    tokenizer_free(full);
    json_decref(encoder);
    json_decref(ranks);
    for (int i = 0; i < n_texts; i++) free(texts[i]);
    n_texts = 0;
}

static Tokenizer *open_size(int vocab_size) {
    char err[1024];
    Tokenizer *t = tokenizer_open(NULL, vocab_size, err, sizeof err);
    ck_assert_msg(t != NULL, "vocab_size %d: %s", vocab_size, err);
    return t;
}

// The ids of text from a throwaway session (sessions are per thread, not per text).
static TokenIds encode(const Tokenizer *t, const char *text, size_t n) {
    TokenizerSession *s = tokenizer_session_new(t);
    TokenIds ids = {0};
    tokenizer_encode(s, text, n, &ids);
    tokenizer_session_free(s);
    return ids;
}

// ---- the naive reference ----------------------------------------------------

// Symbols of one piece: sym[i] is a NUL-terminated spelling.
typedef struct {
    char **sym;
    size_t n;
} Symbols;

static int pair_rank(const char *left, const char *right) {
    char key[2048];
    snprintf(key, sizeof key, "%s %s", left, right);
    json_t *r = json_object_get(ranks, key);
    return r ? (int)json_integer_value(r) : -1;
}

// One step of encoder.py's bpe(): merge every occurrence of the pair at best.
static void merge_all(Symbols *s, size_t best) {
    char *left = s->sym[best], *right = s->sym[best + 1];
    size_t m = 0;
    char **out = mallocCheck(s->n * sizeof *out);
    for (size_t i = 0; i < s->n;) {
        if (i + 1 < s->n && !strcmp(s->sym[i], left) && !strcmp(s->sym[i + 1], right)) {
            size_t a = strlen(s->sym[i]), b = strlen(s->sym[i + 1]);
            out[m] = mallocCheck(a + b + 1);
            memcpy(out[m], s->sym[i], a);
            memcpy(out[m] + a, s->sym[i + 1], b + 1);
            m++, i += 2;
        } else {
            out[m++] = strdup(s->sym[i++]);
        }
    }
    for (size_t i = 0; i < s->n; i++) free(s->sym[i]);
    free(s->sym);
    s->sym = out;
    s->n = m;
}

// Appends the ids of one piece, merging only with ranks below K.
static void reference_piece(const char *piece, size_t n, int K, TokenIds *out) {
    Symbols s = {mallocCheck(n * sizeof(char *)), n};
    for (size_t i = 0; i < n; i++) s.sym[i] = strdup(spelling_of_byte[(unsigned char)piece[i]]);
    for (;;) {
        int best_rank = K;
        size_t best = 0;
        for (size_t i = 0; i + 1 < s.n; i++) {
            int r = pair_rank(s.sym[i], s.sym[i + 1]);
            if (r >= 0 && r < best_rank) best_rank = r, best = i;
        }
        if (best_rank == K) break;
        merge_all(&s, best);
    }
    for (size_t i = 0; i < s.n; i++) {
        json_t *id = json_object_get(encoder, s.sym[i]);
        ck_assert_msg(id != NULL, "reference made an unknown token '%s'", s.sym[i]);
        token_ids_push(out, (int)json_integer_value(id));
        free(s.sym[i]);
    }
    free(s.sym);
}

// Calls fn on every GPT-2 piece of text.
static void for_each_piece(const char *text, size_t n, void (*fn)(const char *, size_t, void *),
                           void *ctx) {
    char err[256];
    pcre2_code *pattern = gpt2_pattern_compile(err, sizeof err);
    ck_assert_msg(pattern != NULL, "%s", err);
    PieceSplitter sp;
    piece_splitter_init(&sp, pattern);
    piece_splitter_begin(&sp, text, n);
    const char *piece;
    size_t len;
    while (piece_splitter_next(&sp, &piece, &len)) fn(piece, len, ctx);
    piece_splitter_free(&sp);
    pcre2_code_free(pattern);
}

typedef struct {
    int K;
    TokenIds ids;
} ReferenceRun;

static void reference_fn(const char *piece, size_t n, void *ctx) {
    ReferenceRun *r = ctx;
    reference_piece(piece, n, r->K, &r->ids);
}

START_TEST(reduced_ids_equal_naive_remerging_with_first_k_merges) {
    static const int sizes[] = {257, 258, 357, 8192, GPT2_VOCAB_SIZE};  // K = 0, 1, 100, 7935, 50000
    for (size_t v = 0; v < sizeof sizes / sizeof sizes[0]; v++) {
        Tokenizer *t = open_size(sizes[v]);
        for (int i = 0; i < n_texts; i++) {
            ReferenceRun ref = {sizes[v] - 257, {0}};
            for_each_piece(texts[i], text_len[i], reference_fn, &ref);
            TokenIds ids = encode(t, texts[i], text_len[i]);
            ck_assert_msg(ids.len == ref.ids.len, "V=%d text %d: %zu ids, reference %zu", sizes[v], i,
                          ids.len, ref.ids.len);
            for (size_t k = 0; k < ids.len; k++)
                ck_assert_msg(ids.ids[k] == ref.ids.ids[k], "V=%d text %d id %zu: %d, reference %d",
                              sizes[v], i, k, ids.ids[k], ref.ids.ids[k]);
            token_ids_free(&ids);
            token_ids_free(&ref.ids);
        }
        tokenizer_free(t);
    }
}
END_TEST

typedef struct {
    TokenizerSession *full, *reduced;  // one each for all pieces
    int K, agreed, differed;
} Comparison;

static void compare_fn(const char *piece, size_t n, void *ctx) {
    Comparison *c = ctx;
    TokenIds a = {0}, b = {0};
    tokenizer_encode(c->full, piece, n, &a);
    tokenizer_encode(c->reduced, piece, n, &b);
    int max_full = -1;
    for (size_t i = 0; i < a.len; i++)
        if (a.ids[i] > max_full) max_full = a.ids[i];
    int same = a.len == b.len && !memcmp(a.ids, b.ids, a.len * sizeof *a.ids);
    if (max_full < 256 + c->K) {
        ck_assert_msg(same, "piece '%.*s': full ids all below %d, reduced ids differ", (int)n, piece, 256 + c->K);
        c->agreed++;
    } else {
        ck_assert_msg(!same, "piece '%.*s': full uses id %d >= %d, reduced cannot", (int)n, piece, max_full, 256 + c->K);
        c->differed++;
    }
    token_ids_free(&a);
    token_ids_free(&b);
}

START_TEST(full_and_reduced_agree_on_pieces_without_later_merges) {
    static const int sizes[] = {1257, 8192};
    for (size_t v = 0; v < 2; v++) {
        Tokenizer *reduced = open_size(sizes[v]);
        Comparison c = {tokenizer_session_new(full), tokenizer_session_new(reduced), sizes[v] - 257, 0, 0};
        for (int i = 0; i < n_texts; i++) for_each_piece(texts[i], text_len[i], compare_fn, &c);
        // Both branches exercised; most pieces of English text need only early merges.
        ck_assert_int_gt(c.differed, 100);
        ck_assert_int_gt(c.agreed, c.differed);
        tokenizer_session_free(c.full);
        tokenizer_session_free(c.reduced);
        tokenizer_free(reduced);
    }
}
END_TEST

START_TEST(no_merges_is_one_id_per_byte) {
    Tokenizer *t = open_size(257);
    for (int i = 0; i < n_texts; i++) {
        TokenIds ids = encode(t, texts[i], text_len[i]);
        ck_assert_uint_eq(ids.len, text_len[i]);
        for (size_t k = 0; k < ids.len; k++) {
            size_t n;
            const char *bytes = tokenizer_token_bytes(t, ids.ids[k], &n);
            ck_assert(ids.ids[k] < 256 && n == 1 && bytes[0] == texts[i][k]);
        }
        token_ids_free(&ids);
    }
    tokenizer_free(t);
}
END_TEST

static void check_size(int V, size_t *total) {
    Tokenizer *t = open_size(V);
    ck_assert_int_eq(tokenizer_vocab_size(t), V);
    ck_assert_int_eq(tokenizer_eot(t), V - 1);
    size_t n;
    const char *eot = tokenizer_token_bytes(t, V - 1, &n);
    ck_assert(eot && n == 13 && !memcmp(eot, "<|endoftext|>", 13));
    ck_assert_ptr_null(tokenizer_token_bytes(t, V, &n));
    for (int id = 0; id < V - 1; id++) {  // GPT-2's own ids
        size_t m;
        const char *mine = tokenizer_token_bytes(t, id, &n), *gpt2 = tokenizer_token_bytes(full, id, &m);
        ck_assert(n == m && !memcmp(mine, gpt2, n));
    }
    *total = 0;
    for (int i = 0; i < n_texts; i++) {
        TokenIds ids = encode(t, texts[i], text_len[i]);
        for (size_t k = 0; k < ids.len; k++) ck_assert(ids.ids[k] >= 0 && ids.ids[k] < V - 1);
        token_ids_push(&ids, V - 1);  // as the data loader appends it
        size_t len, bad;
        char *back = tokenizer_decode(t, ids.ids, ids.len, &len, &bad);
        ck_assert_ptr_nonnull(back);
        ck_assert(len == text_len[i] + 13 && !memcmp(back, texts[i], text_len[i]) &&
                  !memcmp(back + text_len[i], "<|endoftext|>", 13));
        *total += ids.len;
        free(back);
        token_ids_free(&ids);
    }
    tokenizer_free(t);
}

START_TEST(every_size_round_trips_within_its_ids) {
    static const int sizes[] = {257, 258, 1000, 8192, GPT2_VOCAB_SIZE};
    size_t previous = (size_t)-1, total;
    for (size_t v = 0; v < sizeof sizes / sizeof sizes[0]; v++) {
        check_size(sizes[v], &total);
        ck_assert_uint_lt(total, previous);  // more merges, fewer tokens
        previous = total;
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("tokenizer_reduced");
    TCase *tc = tcase_create("reduced");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, reduced_ids_equal_naive_remerging_with_first_k_merges);
    tcase_add_test(tc, full_and_reduced_agree_on_pieces_without_later_merges);
    tcase_add_test(tc, no_merges_is_one_id_per_byte);
    tcase_add_test(tc, every_size_round_trips_within_its_ids);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
