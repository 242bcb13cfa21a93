#include "datasets/byte_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "kernels/base/check.h"

enum { RAW_BUFFER_BYTES = 1 << 20 };

struct ByteSource {
    char path[4096];
    int fd;
    int gzip;
    uint64_t file_bytes, raw_read;  // file size; bytes read from the file so far
    int raw_eof;
    unsigned char *raw;             // (RAW_BUFFER_BYTES) compressed input window
    z_stream z;
    int in_member;                  // a member has started and not yet ended
    char damage[512];               // an error found after output: reported by the next read
};

ByteSource *byte_source_open(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    ByteSource *s = callocCheck(1, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->fd = fd;
    s->file_bytes = (uint64_t)st.st_size;
    unsigned char magic[2];
    s->gzip = pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (s->gzip) {
        s->raw = mallocCheck(RAW_BUFFER_BYTES);
        // 16 + MAX_WBITS: gzip wrapper only, so a stray non-gzip tail is an error.
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) die("zlib: inflateInit2 failed");
    }
    return s;
}

void byte_source_close(ByteSource *s) {
    if (!s) return;
    if (s->gzip) inflateEnd(&s->z);
    close(s->fd);
    free(s->raw);
    free(s);
}

// Keep the unconsumed input at the front of the window and read more after it.
static void refill(ByteSource *s) {
    if (s->z.avail_in > 0 && s->z.next_in != s->raw) memmove(s->raw, s->z.next_in, s->z.avail_in);
    s->z.next_in = s->raw;
    while (!s->raw_eof && s->z.avail_in < RAW_BUFFER_BYTES) {
        ssize_t got = read(s->fd, s->raw + s->z.avail_in, RAW_BUFFER_BYTES - s->z.avail_in);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            s->raw_eof = 1;  // a read error reads as a truncated file, reported by the caller
            break;
        }
        s->z.avail_in += (uInt)got;
        s->raw_read += (uint64_t)got;
    }
}

ssize_t byte_source_read(ByteSource *s, char *buf, size_t cap, char *err, size_t errlen) {
    if (!s->gzip) {
        for (;;) {
            ssize_t got = read(s->fd, buf, cap);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) {
                snprintf(err, errlen, "%s: read error: %s", s->path, strerror(errno));
                return -1;
            }
            s->raw_read += (uint64_t)got;
            return got;
        }
    }
    if (s->damage[0]) {
        snprintf(err, errlen, "%s", s->damage);
        s->damage[0] = '\0';
        return -1;
    }
    for (;;) {
        if (s->z.avail_in == 0) refill(s);
        if (s->z.avail_in == 0) {
            if (!s->in_member) return 0;
            snprintf(err, errlen, "%s: gzip data ends early at byte %llu (truncated file?)",
                     s->path, (unsigned long long)s->raw_read);
            s->in_member = 0;
            return -1;
        }
        if (!s->in_member) {
            inflateReset(&s->z);
            s->in_member = 1;
        }
        s->z.next_out = (unsigned char *)buf;
        s->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
        int ret = inflate(&s->z, Z_NO_FLUSH);
        size_t produced = (size_t)(s->z.next_out - (unsigned char *)buf);
        if (ret == Z_STREAM_END) s->in_member = 0;
        else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            // The bytes inflated before the damage are good: deliver them first, so the
            // lines they complete are read and the error names the line after them.
            char *msg = produced > 0 ? s->damage : err;
            snprintf(msg, produced > 0 ? sizeof s->damage : errlen,
                     "%s: corrupt gzip data near byte %llu (%s)", s->path,
                     (unsigned long long)byte_source_offset(s), s->z.msg ? s->z.msg : "zlib error");
            s->in_member = 0;
            if (produced == 0) return -1;
        }
        if (produced > 0) return (ssize_t)produced;
    }
}

int byte_source_resync(ByteSource *s) {
    if (!s->gzip) return -1;
    static const unsigned char header[3] = {0x1f, 0x8b, 0x08};  // gzip magic + deflate
    // Step past the byte where the damage was found, then look for a header.
    if (s->z.avail_in > 0) {
        s->z.next_in++;
        s->z.avail_in--;
    }
    for (;;) {
        if (s->z.avail_in < sizeof header) {
            if (s->raw_eof) return -1;
            refill(s);
            continue;
        }
        unsigned char *hit = memmem(s->z.next_in, s->z.avail_in, header, sizeof header);
        if (hit) {
            s->z.avail_in -= (uInt)(hit - s->z.next_in);
            s->z.next_in = hit;
            s->in_member = 0;
            return 0;
        }
        // Keep the last two bytes: a header may straddle the window edge.
        s->z.next_in += s->z.avail_in - 2;
        s->z.avail_in = 2;
        if (s->raw_eof) return -1;
        refill(s);
    }
}

uint64_t byte_source_offset(const ByteSource *s) {
    return s->gzip ? s->raw_read - s->z.avail_in : s->raw_read;
}

uint64_t byte_source_file_bytes(const ByteSource *s) { return s->file_bytes; }
