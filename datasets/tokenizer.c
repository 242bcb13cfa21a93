// GPT-2 tokenizer: loading encoder.json / vocab.bpe, encoding, decoding.
#include "datasets/tokenizer.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "datasets/bpe.h"
#include "datasets/pretokenize.h"
#include "datasets/word_cache.h"
#include "kernels/base/check.h"
#include "kernels/base/fileio.h"
#include "kernels/base/hash.h"

struct Tokenizer {
    int vocab_size;             // V; merges of rank < V-257 are kept, V-1 is end-of-text
    MergeTable merges;
    int byte_id[256];           // id of each single byte
    char *token_bytes;          // raw bytes of every token, concatenated
    uint32_t *token_off;        // (V + 1) offsets into token_bytes
    pcre2_code *pattern;
    uint64_t vocab_hash;
};

struct TokenizerSession {
    const Tokenizer *tok;
    PieceSplitter splitter;
    WordCache cache;
    BpeScratch scratch;
    int *piece_ids;             // (piece_cap) byte ids, then merged ids, of one piece
    size_t piece_cap;
};

void token_ids_push(TokenIds *v, int id) {
    if (v->len == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->ids = realloc(v->ids, v->cap * sizeof *v->ids);
        if (!v->ids) die("out of memory growing a token list to %zu ids", v->cap);
    }
    v->ids[v->len++] = id;
}

void token_ids_free(TokenIds *v) {
    free(v->ids);
    memset(v, 0, sizeof *v);
}

// ---- files ------------------------------------------------------------------

static int has_vocab(const char *dir) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/encoder.json", dir);
    return access(path, R_OK) == 0;
}

// $MOT_GPT2_DIR, else datasets/gpt2 under the working directory, else beside or
// up to two levels above the executable (build/tests/ binaries, build/suite).
static int find_vocab_dir(char *out, size_t outlen, char *err, size_t errlen) {
    const char *env = getenv("MOT_GPT2_DIR");
    if (env && env[0]) {
        snprintf(out, outlen, "%s", env);
        if (has_vocab(out)) return 0;
        snprintf(err, errlen, "MOT_GPT2_DIR=%s: no readable encoder.json there; point it at a folder with the GPT-2 encoder.json and vocab.bpe", env);
        return -1;
    }
    snprintf(out, outlen, "datasets/gpt2");
    if (has_vocab(out)) return 0;
    char exe[PATH_MAX - 64];  // leaves room for the suffixes below
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const up[] = {"", "/..", "/../.."};
        for (int i = 0; i < 3; i++) {
            snprintf(out, outlen, "%s%s/datasets/gpt2", exe, up[i]);
            if (has_vocab(out)) return 0;
        }
    }
    snprintf(err, errlen, "GPT-2 vocabulary not found (looked for datasets/gpt2/encoder.json in the working directory and near the executable); run from the repository root or set MOT_GPT2_DIR");
    return -1;
}

// GPT-2 spells each byte as one printable character: bytes that are printable
// Latin-1 stand for themselves, the other 68 map to U+0100.. in byte order.
static void byte_to_codepoint(int cp_of_byte[256]) {
    int next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        cp_of_byte[b] = printable ? b : next++;
    }
}

// Raw bytes of a token spelled in GPT-2's byte alphabet; -1 if a character is
// not in the alphabet.
static int decode_token_spelling(const char *s, const int byte_of_cp[324], char *out, size_t *n) {
    *n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int cp, len = utf8_sequence_length(p, strlen((const char *)p));
        if (len == 1) cp = p[0];
        else if (len == 2) cp = (p[0] & 0x1F) << 6 | (p[1] & 0x3F);
        else return -1;  // the alphabet lies below U+0144
        if (cp >= 324 || byte_of_cp[cp] < 0) return -1;
        out[(*n)++] = (char)byte_of_cp[cp];
        p += len;
    }
    return 0;
}

// Lay the spellings out in id order so that decoding is one lookup per id:
// ids below V-1 are GPT-2's own, V-1 is end-of-text (GPT-2's 50256).
static void layout_token_bytes(Tokenizer *tok, const char *spelled, const size_t *at,
                               const size_t *n) {
    int V = tok->vocab_size;
    size_t total = 0;
    for (int id = 0; id < V; id++) total += n[id == V - 1 ? GPT2_EOT : id];
    tok->token_bytes = mallocCheck(total);
    tok->token_off = mallocCheck(((size_t)V + 1) * sizeof *tok->token_off);
    size_t off = 0;
    for (int id = 0; id < V; id++) {
        int gpt2_id = id == V - 1 ? GPT2_EOT : id;
        tok->token_off[id] = (uint32_t)off;
        memcpy(tok->token_bytes + off, spelled + at[gpt2_id], n[gpt2_id]);
        off += n[gpt2_id];
    }
    tok->token_off[V] = (uint32_t)off;
}

static int load_encoder(Tokenizer *tok, const char *path, json_t **encoder, char *err, size_t errlen) {
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    tok->vocab_hash = hash64(text, len, HASH64_INIT);
    json_error_t jerr;
    *encoder = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!*encoder || !json_is_object(*encoder) || json_object_size(*encoder) != GPT2_VOCAB_SIZE) {
        snprintf(err, errlen, "%s:%d: not the GPT-2 encoder.json (%s); restore it from datasets/gpt2", path,
                 *encoder ? 1 : jerr.line, *encoder ? "expected an object of 50257 tokens" : jerr.text);
        return -1;
    }
    int cp_of_byte[256], byte_of_cp[324];
    byte_to_codepoint(cp_of_byte);
    for (int i = 0; i < 324; i++) byte_of_cp[i] = -1;
    for (int b = 0; b < 256; b++) byte_of_cp[cp_of_byte[b]] = b;

    // Decode every spelling into `spelled` (in file order), then lay them out.
    enum { MAX_SPELLING = 1024 };  // GPT-2's longest spelling is 256 bytes
    size_t used = 0, cap = (size_t)GPT2_VOCAB_SIZE * 8;  // grown if needed
    char *spelled = mallocCheck(cap);
    size_t *at = mallocCheck(GPT2_VOCAB_SIZE * sizeof *at), *n = callocCheck(GPT2_VOCAB_SIZE, sizeof *n);
    const char *spelling;
    json_t *value;
    int rc = 0, single_bytes = 0;
    json_object_foreach(*encoder, spelling, value) {
        json_int_t id = json_is_integer(value) ? json_integer_value(value) : -1;
        char bytes[MAX_SPELLING];
        size_t len_id;
        if (id < 0 || id >= GPT2_VOCAB_SIZE || n[id] || strlen(spelling) >= sizeof bytes ||
            decode_token_spelling(spelling, byte_of_cp, bytes, &len_id) != 0 || len_id == 0) {
            snprintf(err, errlen, "%s: bad entry \"%.40s\" (id out of range, repeated, or not in the GPT-2 byte alphabet); restore the genuine file", path, spelling);
            rc = -1;
            break;
        }
        if (used + len_id > cap) {
            cap *= 2;
            spelled = realloc(spelled, cap);
            if (!spelled) die("out of memory loading %s", path);
        }
        memcpy(spelled + used, bytes, len_id);
        at[id] = used;
        n[id] = len_id;
        used += len_id;
        if (len_id == 1) {
            tok->byte_id[(unsigned char)bytes[0]] = (int)id;
            single_bytes++;
        }
    }
    // BPE starts from one token per byte, and GPT-2 gives them ids 0..255.
    int byte_ids_below_256 = 0;
    for (int b = 0; b < 256; b++) byte_ids_below_256 += tok->byte_id[b] < 256;
    if (rc == 0 && (single_bytes != 256 || byte_ids_below_256 != 256)) {
        snprintf(err, errlen, "%s: %d single-byte tokens, GPT-2 has 256 with ids 0..255; restore the genuine file", path, single_bytes);
        rc = -1;
    }
    if (rc == 0) layout_token_bytes(tok, spelled, at, n);
    free(spelled);
    free(at);
    free(n);
    return rc;
}

static int token_id(json_t *encoder, const char *spelling, size_t n) {
    json_t *v = json_object_getn(encoder, spelling, n);
    return v ? (int)json_integer_value(v) : -1;
}

static int load_merges(Tokenizer *tok, const char *path, json_t *encoder, char *err, size_t errlen) {
    size_t len;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    tok->vocab_hash = hash64(text, len, tok->vocab_hash);
    int kept = tok->vocab_size - GPT2_MIN_VOCAB_SIZE;  // K: the first K merges
    merge_table_init(&tok->merges, (size_t)kept);
    int rank = 0, line_no = 0, rc = 0;
    for (char *line = text, *end; line < text + len && rc == 0; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end) end = text + len;
        line_no++;
        size_t n = (size_t)(end - line);
        if (n == 0 || (line_no == 1 && line[0] == '#')) continue;  // "#version: 0.2"
        char *space = memchr(line, ' ', n);
        int left = space ? token_id(encoder, line, (size_t)(space - line)) : -1;
        int right = space ? token_id(encoder, space + 1, (size_t)(end - space - 1)) : -1;
        char merged_spelling[512];
        int merged = -1;
        if (space && n - 1 < sizeof merged_spelling) {
            memcpy(merged_spelling, line, (size_t)(space - line));
            memcpy(merged_spelling + (space - line), space + 1, (size_t)(end - space - 1));
            merged = token_id(encoder, merged_spelling, n - 1);
        }
        // Every line is checked; only the first K become merges. Merge r making
        // id 256+r is what lets a reduced vocabulary keep GPT-2's ids.
        if (left < 0 || right < 0 || merged != 256 + rank ||
            (rank < kept && merge_table_add(&tok->merges, left, right, rank, merged) != 0)) {
            snprintf(err, errlen, "%s:%d: not a merge of two known tokens into token %d (GPT-2 numbers merge r as 256+r); restore the genuine vocab.bpe", path, line_no, 256 + rank);
            rc = -1;
        }
        rank++;
    }
    free(text);
    if (rc == 0 && rank < kept) {
        snprintf(err, errlen, "%s: %d merges, vocab_size %d needs %d; restore the genuine vocab.bpe or use a smaller vocab_size",
                 path, rank, tok->vocab_size, kept);
        rc = -1;
    }
    return rc;
}

Tokenizer *tokenizer_open(const char *dir, int vocab_size, char *err, size_t errlen) {
    char found[PATH_MAX], path[PATH_MAX + 32];
    if (vocab_size == 0) vocab_size = GPT2_VOCAB_SIZE;
    if (vocab_size < GPT2_MIN_VOCAB_SIZE || vocab_size > GPT2_VOCAB_SIZE) {
        snprintf(err, errlen, "vocab_size %d: a GPT-2 vocabulary has %d..%d ids (256 bytes, the first vocab_size-257 merges, end-of-text); use 0 for the full one",
                 vocab_size, GPT2_MIN_VOCAB_SIZE, GPT2_VOCAB_SIZE);
        return NULL;
    }
    if (!dir) {
        if (find_vocab_dir(found, sizeof found, err, errlen) != 0) return NULL;
        dir = found;
    }
    Tokenizer *tok = callocCheck(1, sizeof *tok);
    tok->vocab_size = vocab_size;
    json_t *encoder = NULL;
    snprintf(path, sizeof path, "%s/encoder.json", dir);
    int ok = load_encoder(tok, path, &encoder, err, errlen) == 0;
    snprintf(path, sizeof path, "%s/vocab.bpe", dir);
    ok = ok && load_merges(tok, path, encoder, err, errlen) == 0;
    json_decref(encoder);
    tok->vocab_hash = hash64(&tok->vocab_size, sizeof tok->vocab_size, tok->vocab_hash);
    ok = ok && (tok->pattern = gpt2_pattern_compile(err, errlen)) != NULL;
    if (!ok) {
        tokenizer_free(tok);
        return NULL;
    }
    return tok;
}

Tokenizer *tokenizer_load(const char *dir, char *err, size_t errlen) {
    return tokenizer_open(dir, 0, err, errlen);
}

void tokenizer_free(Tokenizer *tok) {
    if (!tok) return;
    merge_table_free(&tok->merges);
    free(tok->token_bytes);
    free(tok->token_off);
    pcre2_code_free(tok->pattern);
    free(tok);
}

uint64_t tokenizer_vocab_hash(const Tokenizer *tok) { return tok->vocab_hash; }
int tokenizer_vocab_size(const Tokenizer *tok) { return tok->vocab_size; }
int tokenizer_eot(const Tokenizer *tok) { return tok->vocab_size - 1; }

// ---- encode -----------------------------------------------------------------

TokenizerSession *tokenizer_session_new(const Tokenizer *tok) {
    TokenizerSession *s = callocCheck(1, sizeof *s);
    s->tok = tok;
    piece_splitter_init(&s->splitter, tok->pattern);
    word_cache_init(&s->cache);
    return s;
}

void tokenizer_session_free(TokenizerSession *s) {
    if (!s) return;
    piece_splitter_free(&s->splitter);
    word_cache_free(&s->cache);
    bpe_scratch_free(&s->scratch);
    free(s->piece_ids);
    free(s);
}

static void encode_piece(TokenizerSession *s, const char *piece, size_t n, TokenIds *out) {
    size_t m;
    const int *cached = word_cache_get(&s->cache, piece, n, &m);
    if (cached) {
        for (size_t i = 0; i < m; i++) token_ids_push(out, cached[i]);
        return;
    }
    if (2 * n > s->piece_cap) {
        s->piece_cap = 4 * n;
        free(s->piece_ids);
        s->piece_ids = mallocCheck(s->piece_cap * sizeof *s->piece_ids);
    }
    int *bytes = s->piece_ids, *merged = s->piece_ids + n;
    for (size_t i = 0; i < n; i++) bytes[i] = s->tok->byte_id[(unsigned char)piece[i]];
    m = bpe_merge(&s->tok->merges, &s->scratch, bytes, n, merged);
    word_cache_put(&s->cache, piece, n, merged, m);
    for (size_t i = 0; i < m; i++) token_ids_push(out, merged[i]);
}

void tokenizer_encode(TokenizerSession *s, const char *text, size_t len, TokenIds *out) {
    piece_splitter_begin(&s->splitter, text, len);
    const char *piece;
    size_t n;
    while (piece_splitter_next(&s->splitter, &piece, &n)) encode_piece(s, piece, n, out);
}

// ---- decode -----------------------------------------------------------------

const char *tokenizer_token_bytes(const Tokenizer *tok, int id, size_t *len) {
    if (id < 0 || id >= tok->vocab_size) return NULL;
    *len = tok->token_off[id + 1] - tok->token_off[id];
    return tok->token_bytes + tok->token_off[id];
}

char *tokenizer_decode(const Tokenizer *tok, const int *ids, size_t n, size_t *len,
                       size_t *bad_index) {
    size_t total = 0, piece;
    for (size_t i = 0; i < n; i++) {
        if (!tokenizer_token_bytes(tok, ids[i], &piece)) {
            *bad_index = i;
            return NULL;
        }
        total += piece;
    }
    char *out = mallocCheck(total + 1);
    *len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *bytes = tokenizer_token_bytes(tok, ids[i], &piece);
        memcpy(out + *len, bytes, piece);
        *len += piece;
    }
    out[*len] = '\0';
    return out;
}
