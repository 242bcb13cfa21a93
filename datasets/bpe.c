#include "datasets/bpe.h"

#include <string.h>

#include "kernels/base/check.h"

#define EMPTY_PAIR UINT64_MAX

static uint64_t pair_key(int left, int right) { return (uint64_t)(uint32_t)left << 32 | (uint32_t)right; }

static uint32_t pair_slot(const MergeTable *t, uint64_t key) {
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & t->mask;
}

void merge_table_init(MergeTable *t, size_t expected) {
    size_t capacity = 1024;
    while (capacity < 2 * expected) capacity *= 2;  // load factor <= 1/2 keeps probes short
    t->mask = (uint32_t)(capacity - 1);
    t->keys = mallocCheck(capacity * sizeof *t->keys);
    t->ranks = mallocCheck(capacity * sizeof *t->ranks);
    t->merged = mallocCheck(capacity * sizeof *t->merged);
    memset(t->keys, 0xff, capacity * sizeof *t->keys);
}

void merge_table_free(MergeTable *t) {
    free(t->keys);
    free(t->ranks);
    free(t->merged);
    memset(t, 0, sizeof *t);
}

int merge_table_add(MergeTable *t, int left, int right, int rank, int merged) {
    uint64_t key = pair_key(left, right);
    uint32_t i = pair_slot(t, key);
    while (t->keys[i] != EMPTY_PAIR) {
        if (t->keys[i] == key) return -1;
        i = (i + 1) & t->mask;
    }
    t->keys[i] = key;
    t->ranks[i] = rank;
    t->merged[i] = merged;
    return 0;
}

int merge_table_rank(const MergeTable *t, int left, int right, int *merged) {
    uint64_t key = pair_key(left, right);
    for (uint32_t i = pair_slot(t, key);; i = (i + 1) & t->mask) {
        if (t->keys[i] == key) {
            *merged = t->merged[i];
            return t->ranks[i];
        }
        if (t->keys[i] == EMPTY_PAIR) return -1;
    }
}

void bpe_scratch_free(BpeScratch *s) {
    free(s->ids);
    free(s->prev);
    free(s->next);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

// Room for n symbols; the heap holds up to 3n entries (n-1 initial pairs and at
// most two new ones for each of the < n merges; stale entries stay until popped).
static void scratch_reserve(BpeScratch *s, size_t n) {
    if (n <= s->cap) return;
    bpe_scratch_free(s);
    s->cap = 2 * n;
    s->ids = mallocCheck(s->cap * sizeof *s->ids);
    s->prev = mallocCheck(s->cap * sizeof *s->prev);
    s->next = mallocCheck(s->cap * sizeof *s->next);
    s->heap = mallocCheck(3 * s->cap * sizeof *s->heap);
}

static void heap_push(uint64_t *heap, size_t *size, uint64_t v) {
    size_t i = (*size)++;
    while (i > 0 && heap[(i - 1) / 2] > v) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = v;
}

static uint64_t heap_pop(uint64_t *heap, size_t *size) {
    uint64_t top = heap[0], last = heap[--(*size)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *size) break;
        if (c + 1 < *size && heap[c + 1] < heap[c]) c++;
        if (heap[c] >= last) break;
        heap[i] = heap[c];
        i = c;
    }
    if (*size > 0) heap[i] = last;
    return top;
}

// Queue the pair starting at symbol i, if it merges.
static void push_pair(const MergeTable *t, BpeScratch *s, size_t *heap_size, int i) {
    int merged;
    if (i < 0 || s->next[i] < 0) return;
    int rank = merge_table_rank(t, s->ids[i], s->ids[s->next[i]], &merged);
    if (rank >= 0) heap_push(s->heap, heap_size, (uint64_t)rank << 32 | (uint32_t)i);
}

size_t bpe_merge(const MergeTable *t, BpeScratch *s, const int *ids, size_t n, int *out) {
    if (n < 2) {
        if (n == 1) out[0] = ids[0];
        return n;
    }
    scratch_reserve(s, n);
    for (size_t i = 0; i < n; i++) {
        s->ids[i] = ids[i];
        s->prev[i] = (int)i - 1;
        s->next[i] = i + 1 < n ? (int)i + 1 : -1;
    }
    size_t heap_size = 0;
    for (size_t i = 0; i + 1 < n; i++) push_pair(t, s, &heap_size, (int)i);
    while (heap_size > 0) {
        uint64_t top = heap_pop(s->heap, &heap_size);
        int rank = (int)(top >> 32), i = (int)(uint32_t)top, merged;
        // Stale entry: symbol i was absorbed (ids[i] < 0) or its pair changed.
        if (s->ids[i] < 0 || s->next[i] < 0 ||
            merge_table_rank(t, s->ids[i], s->ids[s->next[i]], &merged) != rank)
            continue;
        int j = s->next[i];
        s->ids[i] = merged;
        s->ids[j] = -1;
        s->next[i] = s->next[j];
        if (s->next[j] >= 0) s->prev[s->next[j]] = i;
        push_pair(t, s, &heap_size, s->prev[i]);
        push_pair(t, s, &heap_size, i);
    }
    size_t m = 0;
    for (int i = 0; i >= 0; i = s->next[i]) out[m++] = s->ids[i];
    return m;
}
