// GPT-2 byte-level BPE (OpenAI's encoder.json + vocab.bpe), encode and decode.
//
// Encoding follows OpenAI's GPT-2 encoder.py exactly: the text is split by the
// GPT-2 pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// where \s is the Unicode White_Space property (as in Python's `regex` module and
// tiktoken), then each piece's UTF-8 bytes are merged by rank. `<|endoftext|>` in
// text is ordinary text; the end-of-text id is only ever appended by the data loader.
//
// Reduced vocabularies (small scales, where a 50257-row head would dominate the
// compute): vocab_size V keeps the 256 byte tokens and the first K = V-257 merges
// of vocab.bpe, and end-of-text takes the last id, V-1. GPT-2 numbers its tokens
// exactly that way (ids 0..255 are the bytes, merge r makes id 256+r; the loader
// checks it), so ids 0..255+K are GPT-2's own and only end-of-text moves. There
// is no unknown token: every byte is a token, so any text still tokenizes. V =
// 50257 is GPT-2 itself (K = 50000, end-of-text 50256).
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

enum { GPT2_VOCAB_SIZE = 50257, GPT2_EOT = 50256, GPT2_MIN_VOCAB_SIZE = 257 };

typedef struct Tokenizer Tokenizer;                // vocabulary and merges; read-only, shared by threads
typedef struct TokenizerSession TokenizerSession;  // one per thread: regex state and word cache

typedef struct {
    int *ids;
    size_t len, cap;
} TokenIds;

// dir holds encoder.json and vocab.bpe. NULL searches $MOT_GPT2_DIR, then
// datasets/gpt2 under the working directory, then datasets/gpt2 beside or above
// the executable. vocab_size: 0 (or 50257) for GPT-2's vocabulary, else
// 257..50257 for the reduced one described above. Returns NULL with err naming
// the file (or the value) and the fix.
Tokenizer *tokenizer_open(const char *dir, int vocab_size, char *err, size_t errlen);
// The full GPT-2 vocabulary: tokenizer_open(dir, 0, ...).
Tokenizer *tokenizer_load(const char *dir, char *err, size_t errlen);
void tokenizer_free(Tokenizer *tok);
// 64-bit hash of encoder.json, vocab.bpe and the vocabulary size; token caches record it.
uint64_t tokenizer_vocab_hash(const Tokenizer *tok);
int tokenizer_vocab_size(const Tokenizer *tok);  // V: ids are 0..V-1
int tokenizer_eot(const Tokenizer *tok);         // end-of-text, V-1

TokenizerSession *tokenizer_session_new(const Tokenizer *tok);
void tokenizer_session_free(TokenizerSession *s);
// Appends the ids of text[0..len) (any bytes, see above) to out.
void tokenizer_encode(TokenizerSession *s, const char *text, size_t len, TokenIds *out);

// The bytes of token id (not NUL-terminated), or NULL when id is not in [0, V).
// End-of-text spells "<|endoftext|>" at any V.
const char *tokenizer_token_bytes(const Tokenizer *tok, int id, size_t *len);
// Concatenated bytes of ids[0..n), malloc'd and NUL-terminated, length in *len.
// NULL when some id is out of range; *bad_index then names the first one.
char *tokenizer_decode(const Tokenizer *tok, const int *ids, size_t n, size_t *len,
                       size_t *bad_index);

void token_ids_push(TokenIds *v, int id);
void token_ids_free(TokenIds *v);
