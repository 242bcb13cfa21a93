// Bytes of a shard file, transparently gunzipped when the file starts with the
// gzip magic (1f 8b). Multi-member gzip files (as concatenated by `cat`) are
// read member after member; a damaged member can be skipped by resynchronising
// on the next member header.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ByteSource ByteSource;

ByteSource *byte_source_open(const char *path, char *err, size_t errlen);
void byte_source_close(ByteSource *s);
// Up to cap bytes of content: > 0 bytes read, 0 at the end, -1 when the gzip
// data is damaged or ends early (err says which, naming the compressed offset).
// What inflated before the damage is returned first; the -1 comes on the next call.
ssize_t byte_source_read(ByteSource *s, char *buf, size_t cap, char *err, size_t errlen);
// After a -1 from read: skip forward to the next gzip member header. 0 when one
// was found (read continues there), -1 when none is left.
int byte_source_resync(ByteSource *s);
// File bytes consumed so far and the file size (progress and ETA).
uint64_t byte_source_offset(const ByteSource *s);
uint64_t byte_source_file_bytes(const ByteSource *s);
