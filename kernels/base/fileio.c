#include "kernels/base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernels/base/error.h"

char *read_file(const char *path, size_t *size, char *err, size_t errlen) {
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        errorf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    // Read until EOF rather than trusting ftell: pipes and /proc files have no size.
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;  // end of file or a read error
        char *bigger = realloc(data, cap *= 2);
        if (!bigger) free(data);
        data = bigger;
    }
    int failed = !data || ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        errorf(err, errlen, "%s: read failed: %s", path, data ? strerror(saved) : "out of memory");
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *size = n;
    return data;
}

int make_dirs(const char *path, char *err, size_t errlen) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return errorf(err, errlen, "%s: path too long", path);
    // Create each prefix in turn; existing ones are fine.
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return errorf(err, errlen, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = saved;
        if (saved == '\0') break;
    }
    return 0;
}

const char *path_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int fsync_parent_dir(const char *path, char *err, size_t errlen) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int failed = fd < 0 || (fsync(fd) != 0 && errno != EINVAL);
    int saved = errno;
    if (fd >= 0) close(fd);
    if (failed) return errorf(err, errlen, "%s: cannot sync directory: %s", dir, strerror(saved));
    return 0;
}

int atomic_open(AtomicFile *a, const char *path, char *err, size_t errlen) {
    static atomic_uint counter;
    a->f = NULL;
    a->tmp_path[0] = '\0';
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path)
        return errorf(err, errlen, "%s: path too long", path);
    snprintf(a->tmp_path, sizeof a->tmp_path, "%s.tmp.%ld.%u", path, (long)getpid(),
             atomic_fetch_add(&counter, 1));
    // O_EXCL: a leftover temporary file of another writer is never reused.
    int fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0 || !(a->f = fdopen(fd, "wb"))) {
        errorf(err, errlen, "%s: cannot create a file next to it (%s): %s", path, a->tmp_path,
               strerror(errno));
        if (fd >= 0) close(fd), unlink(a->tmp_path);
        a->tmp_path[0] = '\0';
        return -1;
    }
    return 0;
}

void atomic_abort(AtomicFile *a) {
    if (a->f) fclose(a->f);
    a->f = NULL;
    if (a->tmp_path[0]) unlink(a->tmp_path);
    a->tmp_path[0] = '\0';
}

int atomic_commit(AtomicFile *a, char *err, size_t errlen) {
    if (!a->f) return errorf(err, errlen, "%s: no write in progress", a->path);
    int failed = fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0;
    int saved = errno;
    failed |= fclose(a->f) != 0;
    a->f = NULL;
    if (failed) {
        errorf(err, errlen, "%s: write failed (disk full?): %s", a->tmp_path,
               strerror(saved ? saved : errno));
    } else if (rename(a->tmp_path, a->path) != 0) {
        failed = 1;
        errorf(err, errlen, "%s: cannot rename it to %s: %s", a->tmp_path, a->path,
               strerror(errno));
    }
    if (failed) {
        atomic_abort(a);
        return -1;
    }
    a->tmp_path[0] = '\0';
    return fsync_parent_dir(a->path, err, errlen);
}

int atomic_write(const char *path, AtomicWriteFn write_fn, void *ctx, char *err, size_t errlen) {
    AtomicFile a;
    if (atomic_open(&a, path, err, errlen)) return -1;
    if (write_fn(a.f, ctx, err, errlen)) {
        atomic_abort(&a);
        return -1;
    }
    return atomic_commit(&a, err, errlen);
}

typedef struct {
    const void *data;
    size_t size;
} Buffer;

static int write_buffer(FILE *f, void *ctx, char *err, size_t errlen) {
    const Buffer *b = ctx;
    (void)err, (void)errlen;  // a short write shows up as ferror() at commit
    fwrite(b->data, 1, b->size, f);
    return 0;
}

int atomic_write_buffer(const char *path, const void *data, size_t size, char *err,
                        size_t errlen) {
    Buffer b = {data, size};
    return atomic_write(path, write_buffer, &b, err, errlen);
}
