// Checked allocation and error exits that name file and line: for invariants and
// out-of-memory only. Conditions a user can cause (bad config, bad file) return an
// error to the caller instead (kernels/base/error.h).
#pragma once
#include <stddef.h>
#include <stdlib.h>  // free() for what mallocCheck returns

#ifdef __cplusplus
extern "C" {
#endif

// Print "file:line: message" and exit(1).
#define die(...) die_at(__FILE__, __LINE__, __VA_ARGS__)
void die_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define mallocCheck(n) malloc_check((n), __FILE__, __LINE__)
#define callocCheck(n, size) calloc_check((n), (size), __FILE__, __LINE__)
void *malloc_check(size_t bytes, const char *file, int line);
void *calloc_check(size_t n, size_t size, const char *file, int line);

#ifdef __cplusplus
}
#endif
