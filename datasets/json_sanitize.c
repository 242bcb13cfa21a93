#include "datasets/json_sanitize.h"

#include <stdint.h>
#include <string.h>

// Length of the well-formed UTF-8 sequence at s (at most n bytes available), or
// 0 when it is ill-formed; then *bad is the length of its maximal ill-formed
// subpart (the bytes one U+FFFD replaces). Table 3-7 of the Unicode standard.
static size_t utf8_sequence(const uint8_t *s, size_t n, size_t *bad) {
    uint8_t b = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) len = 2;
    else if (b >= 0xE0 && b <= 0xEF) len = 3, lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    else if (b >= 0xF0 && b <= 0xF4) len = 4, lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    else {
        *bad = 1;  // 80..C1, F5..FF never start a sequence
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        uint8_t lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
        if (i >= n || s[i] < lo_i || s[i] > hi_i) {
            *bad = i;
            return 0;
        }
    }
    return len;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The code unit of a \uXXXX escape at s (n bytes available), or -1.
static long unicode_escape(const char *s, size_t n) {
    if (n < 6 || s[0] != '\\' || s[1] != 'u') return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int h = hex_value(s[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

// Bytes of the escape at line[i] (a backslash) to copy as they are: a valid
// surrogate pair is 12, any other escape 2 (or 6 for \uXXXX); 0 for a lone
// surrogate, which the caller replaces.
static size_t escape_length(const char *line, size_t i, size_t n) {
    long u = unicode_escape(line + i, n - i);
    if (u < 0) return i + 1 < n ? 2 : 1;
    if (u < 0xD800 || u > 0xDFFF) return 6;
    long low = unicode_escape(line + i + 6, n - i - 6);
    if (u <= 0xDBFF && low >= 0xDC00 && low <= 0xDFFF) return 12;
    return 0;
}

size_t json_sanitize_line(const char *line, size_t n, char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        size_t len, bad = 0;
        if (line[i] == '\\') {
            len = escape_length(line, i, n);
            if (!len) {
                memcpy(out + o, "\\uFFFD", 6);
                o += 6;
                i += 6;
                continue;
            }
        } else if (!(len = utf8_sequence((const uint8_t *)line + i, n - i, &bad))) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += bad;
            continue;
        }
        memcpy(out + o, line + i, len);
        o += len;
        i += len;
    }
    return o;
}
