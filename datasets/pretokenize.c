#include "datasets/pretokenize.h"

#include <stdio.h>
#include <string.h>

#include "kernels/base/check.h"

// \s of the Python `regex` module and tiktoken: the Unicode White_Space
// property. PCRE2's own \s differs (it adds U+180E), JavaScript's too (it adds
// U+FEFF, drops U+0085), so the class is spelled out.
#define WS "\\t\\n\\x0B\\f\\r\\x20\\x85\\xA0\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+|[" WS "]+(?![^" WS "])|[" WS "]+";

// An invalid byte b becomes U+E000+b (Private Use, category Co): like the lone
// surrogate the Python reference sees, it is not a letter, number or space.
enum { PLACEHOLDER_BASE = 0xE000, PLACEHOLDER_BYTES = 3 };

pcre2_code *gpt2_pattern_compile(char *err, size_t errlen) {
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)GPT2_PATTERN, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_UCP, &code, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "PCRE2 cannot compile the GPT-2 pattern at offset %zu: %s "
                 "(needs PCRE2 built with Unicode support)", (size_t)at, (char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is absent
    return re;
}

int utf8_sequence_length(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int n;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte (Unicode Table 3-7)
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;  // no overlong forms
        if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else return 0;
    if (avail < (size_t)n || s[1] < lo || s[1] > hi) return 0;
    for (int k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80) return 0;
    return n;
}

// Offset of the first byte not part of well-formed UTF-8, or len.
static size_t first_invalid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) {  // ASCII fast path, 8 bytes at a time
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        int n = utf8_sequence_length(s + i, len - i);
        if (!n) return i;
        i += (size_t)n;
    }
    return len;
}

void piece_splitter_init(PieceSplitter *s, const pcre2_code *pattern) {
    memset(s, 0, sizeof *s);
    s->pattern = pattern;
    s->match = pcre2_match_data_create_from_pattern(pattern, NULL);
    if (!s->match) die("out of memory creating PCRE2 match data");
    size_t jit_size = 0;
    s->jit = pcre2_pattern_info(pattern, PCRE2_INFO_JITSIZE, &jit_size) == 0 && jit_size > 0;
}

void piece_splitter_free(PieceSplitter *s) {
    pcre2_match_data_free(s->match);
    free(s->clean);
    free(s->origin);
    memset(s, 0, sizeof *s);
}

// Build the placeholder copy of text and the offset map back to it.
static void make_clean(PieceSplitter *s, const unsigned char *text, size_t len) {
    size_t need = PLACEHOLDER_BYTES * len + 1;
    if (need > s->clean_cap) {
        free(s->clean);
        free(s->origin);
        s->clean_cap = need;
        s->clean = mallocCheck(need);
        s->origin = mallocCheck(need * sizeof *s->origin);
    }
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        int n = utf8_sequence_length(text + i, len - i);
        if (n) {
            for (int k = 0; k < n; k++) s->origin[out + k] = i;
            memcpy(s->clean + out, text + i, (size_t)n);
            out += (size_t)n;
            i += (size_t)n;
        } else {
            unsigned cp = PLACEHOLDER_BASE + text[i];  // 3-byte UTF-8: 1110xxxx 10xxxxxx 10xxxxxx
            s->clean[out] = (char)(0xE0 | (cp >> 12));
            s->clean[out + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            s->clean[out + 2] = (char)(0x80 | (cp & 0x3F));
            for (int k = 0; k < PLACEHOLDER_BYTES; k++) s->origin[out + k] = i;
            out += PLACEHOLDER_BYTES;
            i++;
        }
    }
    s->origin[out] = len;
    s->subject = s->clean;
    s->subject_len = out;
}

void piece_splitter_begin(PieceSplitter *s, const char *text, size_t len) {
    s->text = text;
    s->offset = 0;
    if (first_invalid((const unsigned char *)text, len) == len) {
        s->subject = text;
        s->subject_len = len;
    } else {
        make_clean(s, (const unsigned char *)text, len);
    }
}

int piece_splitter_next(PieceSplitter *s, const char **piece, size_t *n) {
    if (s->offset >= s->subject_len) return 0;
    // The subject is valid UTF-8 by construction, so PCRE2 need not check it again
    // (and the JIT entry point never does).
    int rc = s->jit ? pcre2_jit_match(s->pattern, (PCRE2_SPTR)s->subject, s->subject_len, s->offset, 0,
                                      s->match, NULL)
                    : pcre2_match(s->pattern, (PCRE2_SPTR)s->subject, s->subject_len, s->offset,
                                  PCRE2_NO_UTF_CHECK, s->match, NULL);
    PCRE2_SIZE *span = pcre2_get_ovector_pointer(s->match);
    // Every character is a letter, number, space or other, so a match always
    // starts right here and is never empty.
    if (rc < 1 || span[0] != s->offset || span[1] <= span[0])
        die("GPT-2 pattern did not match at byte %zu (PCRE2 code %d)", s->offset, rc);
    size_t start = span[0], end = span[1];
    s->offset = end;
    if (s->subject == s->text) {
        *piece = s->text + start;
        *n = end - start;
    } else {
        *piece = s->text + s->origin[start];
        *n = s->origin[end] - s->origin[start];
    }
    return 1;
}
