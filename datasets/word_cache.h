// Per-thread memo of piece -> ids. Natural text repeats a small set of words, so
// most pieces skip BPE entirely. Cleared wholesale when full (no LRU needed: the
// common words come straight back).
#pragma once
#include <stddef.h>
#include <stdint.h>

enum { WORD_CACHE_MAX_PIECE = 64 };  // longer pieces are rare and not cached

typedef struct {
    uint64_t *hashes;   // (capacity) 0 = empty slot
    uint32_t *key_off;  // (capacity) offset of the piece bytes in key_arena
    uint32_t *ids_off;  // (capacity) offset of the ids in ids_arena
    uint8_t *key_len;   // (capacity)
    uint8_t *ids_len;   // (capacity)
    uint32_t mask, count;
    char *key_arena;
    int *ids_arena;
    size_t key_used, ids_used, key_cap, ids_cap;
} WordCache;

void word_cache_init(WordCache *c);
void word_cache_free(WordCache *c);
// The cached ids of piece (and their count in *n), or NULL.
const int *word_cache_get(const WordCache *c, const char *piece, size_t len, size_t *n);
void word_cache_put(WordCache *c, const char *piece, size_t len, const int *ids, size_t n);
