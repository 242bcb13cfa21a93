// Error messages into a caller's buffer: every fallible function in the project takes
// (char *err, size_t errlen) and returns -1 (or NULL) with a one-line message there.
#pragma once
#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// err = the formatted message. Returns -1, so a caller can `return errorf(...)`.
int errorf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int verrorf(char *err, size_t errlen, const char *fmt, va_list ap);

// err = "path:line: message" for an error inside a file the user wrote (YAML, CSV,
// JSON); line <= 0 gives "path: message". Returns -1.
int error_at(char *err, size_t errlen, const char *path, long line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int verror_at(char *err, size_t errlen, const char *path, long line, const char *fmt,
              va_list ap);

#ifdef __cplusplus
}
#endif
