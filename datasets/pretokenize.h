// GPT-2 pre-tokenization: splitting text into the pieces that BPE merges within.
// See datasets/tokenizer.h for the pattern and the treatment of invalid UTF-8.
#pragma once
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>

// The compiled GPT-2 pattern (JIT when available); shared read-only by threads.
pcre2_code *gpt2_pattern_compile(char *err, size_t errlen);

// Per-thread splitting state over one text.
typedef struct {
    const pcre2_code *pattern;
    pcre2_match_data *match;
    int jit;                 // the pattern is JIT-compiled: call the JIT directly
    const char *text;        // the caller's bytes
    const char *subject;     // what the pattern runs on: text, or clean below
    size_t subject_len, offset;
    char *clean;             // text with each invalid byte replaced by a placeholder character
    size_t *origin;          // (subject_len+1) offset in text of each byte of clean
    size_t clean_cap;
} PieceSplitter;

void piece_splitter_init(PieceSplitter *s, const pcre2_code *pattern);
void piece_splitter_free(PieceSplitter *s);
void piece_splitter_begin(PieceSplitter *s, const char *text, size_t len);
// The next piece as bytes of the original text: 1 with *piece/*n, 0 at the end.
int piece_splitter_next(PieceSplitter *s, const char **piece, size_t *n);

// Length (1-4) of the well-formed UTF-8 sequence at s[0..avail), 0 if none.
int utf8_sequence_length(const unsigned char *s, size_t avail);
