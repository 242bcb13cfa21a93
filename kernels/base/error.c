#include "kernels/base/error.h"

#include <stdio.h>

int verrorf(char *err, size_t errlen, const char *fmt, va_list ap) {
    if (errlen) vsnprintf(err, errlen, fmt, ap);
    return -1;
}

int errorf(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verrorf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int verror_at(char *err, size_t errlen, const char *path, long line, const char *fmt,
              va_list ap) {
    if (!errlen) return -1;
    int n = line > 0 ? snprintf(err, errlen, "%s:%ld: ", path, line)
                     : snprintf(err, errlen, "%s: ", path);
    if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    return -1;
}

int error_at(char *err, size_t errlen, const char *path, long line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror_at(err, errlen, path, line, fmt, ap);
    va_end(ap);
    return -1;
}
