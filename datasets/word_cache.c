#include "datasets/word_cache.h"

#include <string.h>

#include "kernels/base/check.h"
#include "kernels/base/hash.h"

enum { WORD_CACHE_SLOTS = 1 << 17 };

static uint64_t piece_hash(const char *piece, size_t len) {
    uint64_t h = hash64(piece, len, HASH64_INIT);
    return h ? h : 1;  // 0 marks an empty slot
}

void word_cache_init(WordCache *c) {
    memset(c, 0, sizeof *c);
    c->mask = WORD_CACHE_SLOTS - 1;
    c->hashes = callocCheck(WORD_CACHE_SLOTS, sizeof *c->hashes);
    c->key_off = mallocCheck(WORD_CACHE_SLOTS * sizeof *c->key_off);
    c->ids_off = mallocCheck(WORD_CACHE_SLOTS * sizeof *c->ids_off);
    c->key_len = mallocCheck(WORD_CACHE_SLOTS);
    c->ids_len = mallocCheck(WORD_CACHE_SLOTS);
    // Room for every slot at half load with pieces of average length 16.
    c->key_cap = (size_t)WORD_CACHE_SLOTS * 8;
    c->ids_cap = (size_t)WORD_CACHE_SLOTS * 4;
    c->key_arena = mallocCheck(c->key_cap);
    c->ids_arena = mallocCheck(c->ids_cap * sizeof *c->ids_arena);
}

void word_cache_free(WordCache *c) {
    free(c->hashes);
    free(c->key_off);
    free(c->ids_off);
    free(c->key_len);
    free(c->ids_len);
    free(c->key_arena);
    free(c->ids_arena);
    memset(c, 0, sizeof *c);
}

const int *word_cache_get(const WordCache *c, const char *piece, size_t len, size_t *n) {
    if (len > WORD_CACHE_MAX_PIECE) return NULL;
    uint64_t h = piece_hash(piece, len);
    for (uint32_t i = (uint32_t)h & c->mask; c->hashes[i]; i = (i + 1) & c->mask) {
        if (c->hashes[i] == h && c->key_len[i] == len &&
            memcmp(c->key_arena + c->key_off[i], piece, len) == 0) {
            *n = c->ids_len[i];
            return c->ids_arena + c->ids_off[i];
        }
    }
    return NULL;
}

static void clear(WordCache *c) {
    memset(c->hashes, 0, WORD_CACHE_SLOTS * sizeof *c->hashes);
    c->count = 0;
    c->key_used = c->ids_used = 0;
}

void word_cache_put(WordCache *c, const char *piece, size_t len, const int *ids, size_t n) {
    if (len > WORD_CACHE_MAX_PIECE) return;  // n <= len, so both fit in a byte
    if (c->count >= WORD_CACHE_SLOTS / 2 || c->key_used + len > c->key_cap ||
        c->ids_used + n > c->ids_cap)
        clear(c);
    uint64_t h = piece_hash(piece, len);
    uint32_t i = (uint32_t)h & c->mask;
    while (c->hashes[i]) i = (i + 1) & c->mask;
    c->hashes[i] = h;
    c->key_off[i] = (uint32_t)c->key_used;
    c->key_len[i] = (uint8_t)len;
    c->ids_off[i] = (uint32_t)c->ids_used;
    c->ids_len[i] = (uint8_t)n;
    memcpy(c->key_arena + c->key_used, piece, len);
    memcpy(c->ids_arena + c->ids_used, ids, n * sizeof *ids);
    c->key_used += len;
    c->ids_used += n;
    c->count++;
}
