// Token cache (.tok): one tokenized shard, memory-mapped for training.
//
// Layout (little-endian):
//   TokCacheHeader                      128 bytes
//   uint16 tokens[num_tokens]           each document's ids followed by end-of-text (vocab_size-1)
//   zero padding to a multiple of 8 bytes
//   uint64 doc_starts[num_docs]         index in tokens of each document's first id
// The file is written to a temporary name, fsync'ed and renamed, so a cache
// either exists complete or not at all; a damaged one (sizes that disagree with
// the header, documents not ending in end-of-text) is detected on open.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define TOK_CACHE_MAGIC "MOTTOKEN"
enum { TOK_CACHE_VERSION = 2, TOK_CACHE_LABEL_BYTES = 32 };  // 2: vocab_size (1 was always 50257)

typedef struct {
    char magic[8];             // TOK_CACHE_MAGIC, not NUL-terminated
    uint32_t version;          // TOK_CACHE_VERSION
    uint32_t header_bytes;     // sizeof(TokCacheHeader)
    uint64_t num_tokens;       // including one end-of-text per document
    uint64_t num_docs;
    uint64_t vocab_hash;       // tokenizer_vocab_hash() of the tokenizer that wrote it
    uint64_t source_fingerprint;  // hash of the source's path, size and mtime
    uint64_t skipped_lines;    // malformed lines / lost gzip members skipped while writing
    uint64_t text_bytes;       // UTF-8 bytes of document text
    char label[TOK_CACHE_LABEL_BYTES];  // dataset label of the source ("c4", ...), NUL-padded
    uint32_t vocab_size;       // tokenizer_vocab_size(): ids are below it, end-of-text is vocab_size-1
    uint8_t reserved[28];
} TokCacheHeader;

typedef struct {
    TokCacheHeader header;
    const uint16_t *tokens;      // (num_tokens)
    const uint64_t *doc_starts;  // (num_docs)
    void *map;
    size_t map_bytes;
} TokCache;

typedef enum { TOK_CACHE_OK = 0, TOK_CACHE_MISSING = 1, TOK_CACHE_DAMAGED = 2 } TokCacheStatus;

// Maps and validates a cache. MISSING when the file does not exist, DAMAGED (err
// says what disagrees) when it is not a complete cache.
TokCacheStatus tok_cache_open(const char *path, TokCache *c, char *err, size_t errlen);
void tok_cache_close(TokCache *c);

// Streaming writer: documents are appended in order, then finish() fills the
// header (num_tokens, num_docs and vocab_size come from here) and atomically
// publishes the file.
typedef struct TokCacheWriter TokCacheWriter;
// vocab_size: the tokenizer's (end-of-text, vocab_size-1, ends every document);
// at most 65536 as ids are stored in 16 bits. First removes the temporary files
// that killed writers left in path's folder (their pid is gone, unchanged 10 min).
TokCacheWriter *tok_cache_writer_begin(const char *path, int vocab_size, char *err, size_t errlen);
// ids must lie in [0, vocab_size-1): end-of-text is appended here.
int tok_cache_writer_add_doc(TokCacheWriter *w, const int *ids, size_t n, char *err, size_t errlen);
int tok_cache_writer_finish(TokCacheWriter *w, const TokCacheHeader *meta, char *err,
                            size_t errlen);  // frees w; 0 or -1
void tok_cache_writer_abort(TokCacheWriter *w);  // removes the temporary file, frees w
