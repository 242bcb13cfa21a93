#include "kernels/base/hash.h"

uint64_t hash64(const void *data, size_t n, uint64_t h) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;  // the FNV 64-bit prime
    }
    return h;
}
