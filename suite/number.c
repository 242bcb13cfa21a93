#include "suite/number.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// strto* skip leading white space and accept "" as nothing parsed; a number given
// by the user is the whole text, so " 3" is refused like "3 " is.
static int starts_number(const char *text) { return text[0] && !isspace((unsigned char)text[0]); }

int number_parse_long(const char *text, long *out) {
    if (!starts_number(text)) return -1;
    char *end;
    errno = 0;
    long x = strtol(text, &end, 10);
    if (end == text || *end || errno) return -1;
    *out = x;
    return 0;
}

int number_parse_int(const char *text, int *out) {
    long x;
    if (number_parse_long(text, &x) || x < INT_MIN || x > INT_MAX) return -1;
    *out = (int)x;
    return 0;
}

int number_parse_u64(const char *text, uint64_t *out) {
    if (!starts_number(text)) return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-') return -1;
    *out = x;
    return 0;
}

// Finite only: no option means anything by nan or inf, and a nan slips past every
// range check (nan > 0 and nan <= 0 are both false).
int number_parse_float(const char *text, float *out) {
    if (!starts_number(text)) return -1;
    char *end;
    errno = 0;
    float x = strtof(text, &end);
    if (end == text || *end || errno || !isfinite(x)) return -1;
    *out = x;
    return 0;
}

int number_parse_bool(const char *text, int *out) {
    static const char *const yes[] = {"1", "true", "yes"}, *const no[] = {"0", "false", "no"};
    for (int i = 0; i < 3; i++) {
        int is_yes = !strcmp(text, yes[i]);
        if (is_yes || !strcmp(text, no[i])) {
            *out = is_yes;
            return 0;
        }
    }
    return -1;
}

void number_format_float(float x, char *out, int len) {
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(out, len, "%.*g", digits, x);
        if (strtof(out, NULL) == x) return;
    }
}
