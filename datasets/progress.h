// One self-overwriting progress line on stderr while shards are tokenized:
// share of the input read, text MB/s, tokens/s and ETA. Safe to update from
// several threads.
#pragma once
#include <stdint.h>

typedef struct {
    uint64_t total_file_bytes;                 // input to read (compressed size for .gz)
    uint64_t file_bytes, text_bytes, tokens;   // done so far
    double start, last_print;                  // seconds, monotonic clock
    int quiet, printed;
} Progress;

void progress_start(Progress *p, uint64_t total_file_bytes, int quiet);
void progress_add(Progress *p, uint64_t file_bytes, uint64_t text_bytes, uint64_t tokens);
// Ends the line with a summary line (unless quiet).
void progress_finish(Progress *p);
