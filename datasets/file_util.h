// Small file-system and hashing helpers shared by the data path.
#pragma once
#include <stddef.h>
#include <stdint.h>

// mkdir -p. 0, or -1 with err naming the directory.
int make_dirs(const char *path, char *err, size_t errlen);
// fsync the directory holding path, so a rename into it survives a crash.
void fsync_parent_dir(const char *path);
// Last path component ("a/b.json.gz" -> "b.json.gz"); a pointer into path.
const char *path_basename(const char *path);

// FNV-1a, 64-bit; chain calls by passing the previous result as h.
#define HASH64_INIT 0xcbf29ce484222325ull
uint64_t hash64(const void *data, size_t n, uint64_t h);
