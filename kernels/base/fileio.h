// Files: whole-file reads, directories, and the one atomic write every layer uses.
#pragma once
#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

// Whole file into a malloc'd buffer with a NUL after the last byte (so text can be
// parsed in place); *size excludes the NUL. NULL with err naming the path.
char *read_file(const char *path, size_t *size, char *err, size_t errlen);

// mkdir -p. 0, or -1 with err naming the directory that could not be created.
int make_dirs(const char *path, char *err, size_t errlen);
// Last path component ("a/b.json.gz" -> "b.json.gz"); a pointer into path.
const char *path_basename(const char *path);
// fsync the directory holding path, so a rename into it survives a crash. File
// systems that cannot sync a directory (EINVAL) count as success. 0, or -1 with err.
int fsync_parent_dir(const char *path, char *err, size_t errlen);

// Atomic replacement of a file: readers see the old content or the complete new one,
// also after a crash. Writes go to a temporary file with a unique name next to path
// (path.tmp.PID.N, so concurrent writers never share one); commit flushes and fsyncs
// it, renames it over path and fsyncs the directory. On any failure the temporary
// file is removed and path is untouched.
typedef struct {
    FILE *f;  // write here between atomic_open and atomic_commit / atomic_abort
    char path[4096];
    char tmp_path[4160];
} AtomicFile;

int atomic_open(AtomicFile *a, const char *path, char *err, size_t errlen);
int atomic_commit(AtomicFile *a, char *err, size_t errlen);
void atomic_abort(AtomicFile *a);  // discard everything written; safe to call twice

// One-call forms. write_fn writes the content to f and returns 0, or -1 with err.
typedef int (*AtomicWriteFn)(FILE *f, void *ctx, char *err, size_t errlen);
int atomic_write(const char *path, AtomicWriteFn write_fn, void *ctx, char *err, size_t errlen);
int atomic_write_buffer(const char *path, const void *data, size_t size, char *err,
                        size_t errlen);

#ifdef __cplusplus
}
#endif
