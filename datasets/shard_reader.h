// Documents of one C4-style shard: JSON lines with a `text` string field (other
// fields, such as C4's url and timestamp/date, are ignored). Errors name the
// file and line. With skip_bad, malformed lines and damaged gzip members are
// counted and skipped instead.
#pragma once
#include <stddef.h>
#include <stdint.h>

// The fix named by every message about bad data that skip_bad would skip.
#define SKIP_BAD_HINT "or pass --skip-bad to count and skip it"

typedef struct ShardReader ShardReader;

ShardReader *shard_reader_open(const char *path, int skip_bad, char *err, size_t errlen);
void shard_reader_close(ShardReader *r);
// 1: *text/*len hold the next document (valid until the next call); 0: end of
// the shard; -1: error, err holds "path:line: what; fix".
int shard_reader_next(ShardReader *r, const char **text, size_t *len, char *err, size_t errlen);
uint64_t shard_reader_skipped(const ShardReader *r);  // lines / gzip members skipped so far
uint64_t shard_reader_line(const ShardReader *r);     // line number of the last line read
uint64_t shard_reader_offset(const ShardReader *r);   // file bytes consumed (progress)
