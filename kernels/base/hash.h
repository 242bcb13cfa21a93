// FNV-1a, 64-bit: fingerprints of files, vocabularies and run arguments.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HASH64_INIT 0xcbf29ce484222325ull  // the FNV-1a 64 offset basis
// Chain calls by passing the previous result as h; start from HASH64_INIT.
uint64_t hash64(const void *data, size_t n, uint64_t h);

#ifdef __cplusplus
}
#endif
