// The Dataset object, shared by dataset.c (opening, caches) and packer.c (batches).
#pragma once
#include "datasets/dataset.h"
#include "datasets/token_cache.h"

struct Dataset {
    char label[64];
    int vocab_size;      // of the tokenizer that wrote the caches
    int num_shards;
    TokCache *shards;    // (num_shards) mapped caches, in stream order
    uint64_t *doc_base;  // (num_shards+1) documents before each shard
    uint64_t *tok_base;  // (num_shards+1) tokens before each shard
    DatasetStats stats;
};

// Index of the shard holding item x, where base (num_shards+1) is cumulative.
int dataset_shard_of(const Dataset *ds, const uint64_t *base, uint64_t x);
