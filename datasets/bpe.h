// Byte-pair merging of one pre-tokenized piece, given the merge ranks of
// vocab.bpe. Lower rank merges first; among equal ranks the leftmost pair, which
// gives exactly the GPT-2 encoder's result (it merges every occurrence of the
// best pair left to right, and pairs formed by a merge always rank later).
#pragma once
#include <stddef.h>
#include <stdint.h>

// Open-addressing map (left id, right id) -> (rank, merged id).
typedef struct {
    uint64_t *keys;    // (capacity) left<<32 | right, or EMPTY_PAIR
    int32_t *ranks;    // (capacity)
    int32_t *merged;   // (capacity)
    uint32_t mask;     // capacity - 1 (a power of two)
} MergeTable;

void merge_table_init(MergeTable *t, size_t expected);
void merge_table_free(MergeTable *t);
// 0, or -1 when the pair is already present (a duplicate merge line).
int merge_table_add(MergeTable *t, int left, int right, int rank, int merged);
// Rank of (left, right) and its merged id in *merged, or -1 when they do not merge.
int merge_table_rank(const MergeTable *t, int left, int right, int *merged);

// Scratch space for bpe_merge, grown on demand; one per thread.
typedef struct {
    int *ids, *prev, *next;  // (cap) a doubly linked list of symbols
    uint64_t *heap;          // (3*cap) rank<<32 | position, a binary min-heap
    size_t cap;
} BpeScratch;

void bpe_scratch_free(BpeScratch *s);
// Merge the symbols ids[0..n) (one per byte on entry) of one piece; writes the
// result to out (at most n ids) and returns its length.
size_t bpe_merge(const MergeTable *t, BpeScratch *s, const int *ids, size_t n, int *out);
