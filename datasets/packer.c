// Batches: random packing for training (as llm-random's GPTPacker), sequential
// windows for evaluation.
#include <string.h>

#include "datasets/dataset_internal.h"
#include "kernels/base/check.h"

// xoshiro256** (Blackman & Vigna): small state that a checkpoint can store, and a
// jump function that gives each rank a non-overlapping stream.
static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t packer_next(Packer *p) {
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

// Advance by 2^128 draws: streams of different ranks never overlap.
static void packer_jump(Packer *p) {
    static const uint64_t JUMP[4] = {0x180ec6d33cfd0abaull, 0xd5a61266f0c9392cull,
                                     0xa9582618e03fc9aaull, 0x39abdc4529b1661cull};
    uint64_t acc[4] = {0};
    for (int i = 0; i < 4; i++)
        for (int bit = 0; bit < 64; bit++) {
            if (JUMP[i] & (1ull << bit))
                for (int k = 0; k < 4; k++) acc[k] ^= p->s[k];
            packer_next(p);
        }
    memcpy(p->s, acc, sizeof acc);
}

void packer_init(Packer *p, uint64_t seed, int rank) {
    uint64_t x = seed;
    for (int k = 0; k < 4; k++) {  // splitmix64 spreads any seed over the whole state
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        p->s[k] = z ^ (z >> 31);
    }
    for (int r = 0; r < rank; r++) packer_jump(p);
}

// Uniform in [0, n), without modulo bias (Lemire's multiply-and-reject).
static uint64_t packer_below(Packer *p, uint64_t n) {
    unsigned __int128 m = (unsigned __int128)packer_next(p) * n;
    if ((uint64_t)m < n) {
        uint64_t threshold = (0 - n) % n;
        while ((uint64_t)m < threshold) m = (unsigned __int128)packer_next(p) * n;
    }
    return (uint64_t)(m >> 64);
}

typedef struct {
    const uint16_t *tokens;
    uint64_t len;
} DocView;

// One row: draw documents until, as in the paper's packer, the buffer minus its
// longest document exceeds T and the buffer exceeds 10*T; then read T+1 tokens
// circularly from a uniformly random start in the buffer.
static void sample_row(const Dataset *ds, Packer *p, int T, DocView **docs, size_t *cap,
                       int *tokens, int *targets) {
    uint64_t total = 0, longest = 0;
    size_t n = 0;
    while (!(total - longest > (uint64_t)T && total > 10 * (uint64_t)T)) {
        if (n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            *docs = realloc(*docs, *cap * sizeof **docs);
            if (!*docs) die("out of memory packing a batch");
        }
        DocView *d = &(*docs)[n++];
        d->tokens = dataset_document(ds, packer_below(p, dataset_num_docs(ds)), &d->len);
        total += d->len;
        if (d->len > longest) longest = d->len;
    }
    uint64_t start = packer_below(p, total);
    size_t doc = 0;  // find the document holding the start, then walk forward
    while (start >= (*docs)[doc].len) start -= (*docs)[doc++].len;
    for (int i = 0; i <= T; i++) {
        int id = (*docs)[doc].tokens[start];
        if (i < T) tokens[i] = id;
        if (i > 0) targets[i - 1] = id;
        if (++start == (*docs)[doc].len) {
            start = 0;
            doc = doc + 1 == n ? 0 : doc + 1;
        }
    }
}

void dataset_sample_batch(const Dataset *ds, Packer *p, int B, int T, int *tokens, int *targets) {
    if (B <= 0 || T <= 0) die("dataset_sample_batch: B=%d T=%d must be positive", B, T);
    DocView *docs = NULL;
    size_t cap = 0;
    for (int b = 0; b < B; b++)
        sample_row(ds, p, T, &docs, &cap, tokens + (size_t)b * T, targets + (size_t)b * T);
    free(docs);
}

void dataset_sequential_batch(const Dataset *ds, uint64_t index, int B, int T, int *tokens,
                              int *targets) {
    if (B <= 0 || T <= 0) die("dataset_sequential_batch: B=%d T=%d must be positive", B, T);
    uint64_t total = dataset_num_tokens(ds);
    for (int b = 0; b < B; b++) {
        // Window w starts at stream token w*T (mod total); 128-bit to never overflow.
        unsigned __int128 w = (unsigned __int128)index * (unsigned)B + (unsigned)b;
        uint64_t pos = (uint64_t)((w * (unsigned)T) % total);
        int s = dataset_shard_of(ds, ds->tok_base, pos);
        uint64_t local = pos - ds->tok_base[s];
        for (int i = 0; i <= T; i++) {
            int id = ds->shards[s].tokens[local];
            if (i < T) tokens[(size_t)b * T + i] = id;
            if (i > 0) targets[(size_t)b * T + i - 1] = id;
            if (++local == ds->shards[s].header.num_tokens) {  // next non-empty shard, or wrap
                do s = (s + 1) % ds->num_shards;
                while (ds->shards[s].header.num_tokens == 0);
                local = 0;
            }
        }
    }
}
