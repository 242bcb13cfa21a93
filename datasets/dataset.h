// Training and evaluation data: C4-style JSON-lines shards, tokenized once with
// GPT-2 BPE into a memory-mapped token cache, then cut into (B,T) batches.
//
// The token stream of a dataset is every document of every shard (shards sorted
// by path, documents in file order), each followed by one end-of-text (V-1:
// 50256 for GPT-2's vocabulary, see datasets/tokenizer.h for reduced ones).
// Token caches are described in datasets/token_cache.h.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct Dataset Dataset;

typedef struct {
    const char *cache_dir;  // token caches; NULL = $MOT_CACHE_DIR or ".cache/tokens"
    int skip_bad;           // count and skip malformed lines / corrupt gzip members instead of stopping
    int threads;            // tokenizer threads (0 = all cores)
    int quiet;              // no progress line
    int vocab_size;         // the model's vocab_size: 0 = GPT-2's 50257, else 257..50257
                            // (GPT-2's first vocab_size-257 merges, see datasets/tokenizer.h)
} DatasetOptions;

// spec: a C4 shard file (.json.gz, .jsonl, .json: one JSON document per line,
// `text` field), a directory of shards, a glob ("dir/c4-train.*.json.gz"), or an
// existing token cache file (.tok). Shards are tokenized once (in parallel across
// shards) into a cache and memory-mapped; re-tokenized only when a source (path,
// size, mtime) or the tokenizer (vocabulary files or vocab_size) changed; a .tok
// of another vocab_size is refused. opt may be NULL
// (defaults). Returns NULL with a one-line message in err (naming the file, the
// line and the fix) when the data cannot be used.
Dataset *dataset_open(const char *spec, const DatasetOptions *opt, char *err, size_t errlen);
void dataset_close(Dataset *ds);

// What it is, for results: "c4" for allenai/c4 shards, "c4-sample" for the
// bundled samples, "english-standin" for the stand-in (never call it C4), else
// the file/dir basename.
const char *dataset_label(const Dataset *ds);
uint64_t dataset_num_tokens(const Dataset *ds);  // including one end-of-text after every document
uint64_t dataset_num_docs(const Dataset *ds);
int dataset_vocab_size(const Dataset *ds);  // V: ids are below it, end-of-text is V-1

// How the dataset was obtained, for logs and tests.
typedef struct {
    int shards;              // source shards (1 for a .tok opened directly)
    int shards_tokenized;    // shards (re)tokenized by this open; 0 = all caches reused
    uint64_t skipped_lines;  // malformed lines and lost gzip members skipped (skip_bad)
    uint64_t text_bytes;     // UTF-8 bytes of document text in the dataset
    int empty_shards;        // shards without documents, skipped (skip_bad)
} DatasetStats;
DatasetStats dataset_stats(const Dataset *ds);

// Document doc (0-based, stream order) as a view into the cache: *len tokens
// including its trailing end-of-text. For tests and inspection.
const uint16_t *dataset_document(const Dataset *ds, uint64_t doc, uint64_t *len);

typedef struct { uint64_t s[4]; } Packer;  // data RNG state; saved in checkpoints for exact resume
void packer_init(Packer *p, uint64_t seed, int rank);  // each data-parallel rank gets its own stream

// Training batch, exactly as the paper: random documents (each followed by
// end-of-text) concatenated, a random window of T+1 tokens cut; tokens (B,T) =
// window[0..T), targets (B,T) = window[1..T]. Deterministic for a Packer state.
// Host int arrays.
void dataset_sample_batch(const Dataset *ds, Packer *p, int B, int T, int *tokens, int *targets);

// Fixed, deterministic batch `index` for evaluation: window w = index*B + b
// covers stream tokens [w*T, w*T+T] of the concatenated stream (documents in file
// order, each followed by EOT), wrapping around at the end. Used by eval during
// training and by `suite eval` (sequential non-overlapping windows from the start).
void dataset_sequential_batch(const Dataset *ds, uint64_t index, int B, int T, int *tokens,
                              int *targets);
