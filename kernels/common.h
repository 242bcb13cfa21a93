// Shared helpers for every kernel and model file: checked allocation, error exits
// that name file and line, and bf16 rounding used to emulate reduced precision.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Print "file:line: message" and exit(1). For conditions a user can cause (bad
// config, bad file) prefer returning an error to the caller; this is for
// invariants and out-of-memory.
#define die(...) die_at(__FILE__, __LINE__, __VA_ARGS__)
void die_at(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

#define mallocCheck(n) malloc_check((n), __FILE__, __LINE__)
#define callocCheck(n, size) calloc_check((n), (size), __FILE__, __LINE__)
void *malloc_check(size_t bytes, const char *file, int line);
void *calloc_check(size_t n, size_t size, const char *file, int line);

// Seconds on the monotonic clock, for timing and ETAs.
double monotonic_seconds(void);

// Round an fp32 value to the nearest bf16 value (round-to-nearest-even), kept in
// fp32 storage. NaN stays NaN. Used by the CPU path to emulate bf16 operands.
static inline float round_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;  // inf/nan unchanged
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}
