// GPT-2 byte-level BPE (OpenAI's encoder.json + vocab.bpe), encode and decode.
//
// Encoding follows OpenAI's GPT-2 encoder.py exactly: the text is split by the
// GPT-2 pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// where \s is the Unicode White_Space property (as in Python's `regex` module and
// tiktoken), then each piece's UTF-8 bytes are merged by rank. `<|endoftext|>` in
// text is ordinary text; the id 50256 is only ever appended by the data loader.
//
// Invalid UTF-8: every byte that is not part of a well-formed UTF-8 sequence is
// treated as one character of its own that is neither a letter, a number nor
// white space -- exactly what the Python reference does on
// bytes.decode("utf-8", "surrogateescape") when it encodes each piece back with
// "surrogateescape" -- and it contributes its raw byte to the BPE. So every byte
// string has ids, decode(encode(x)) == x for all x, and valid UTF-8 is unaffected.
#pragma once
#include <stddef.h>
#include <stdint.h>

enum { GPT2_VOCAB_SIZE = 50257, GPT2_EOT = 50256 };

typedef struct Tokenizer Tokenizer;                // vocabulary and merges; read-only, shared by threads
typedef struct TokenizerSession TokenizerSession;  // one per thread: regex state and word cache

typedef struct {
    int *ids;
    size_t len, cap;
} TokenIds;

// dir holds encoder.json and vocab.bpe. NULL searches $MOT_GPT2_DIR, then
// datasets/gpt2 under the working directory, then datasets/gpt2 beside or above
// the executable. Returns NULL with err naming the file and the fix.
Tokenizer *tokenizer_load(const char *dir, char *err, size_t errlen);
void tokenizer_free(Tokenizer *tok);
// 64-bit hash of encoder.json and vocab.bpe; token caches record it.
uint64_t tokenizer_vocab_hash(const Tokenizer *tok);

TokenizerSession *tokenizer_session_new(const Tokenizer *tok);
void tokenizer_session_free(TokenizerSession *s);
// Appends the ids of text[0..len) (any bytes, see above) to out.
void tokenizer_encode(TokenizerSession *s, const char *text, size_t len, TokenIds *out);

// The bytes of token id (not NUL-terminated), or NULL when id is not in [0, 50257).
const char *tokenizer_token_bytes(const Tokenizer *tok, int id, size_t *len);
// Concatenated bytes of ids[0..n), malloc'd and NUL-terminated, length in *len.
// NULL when some id is out of range; *bad_index then names the first one.
char *tokenizer_decode(const Tokenizer *tok, const int *ids, size_t n, size_t *len,
                       size_t *bad_index);

void token_ids_push(TokenIds *v, int id);
void token_ids_free(TokenIds *v);
