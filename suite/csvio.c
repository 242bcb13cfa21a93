#include "suite/csvio.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/base/fileio.h"
#include "kernels/common.h"
#include "suite/number.h"

void csv_write_row(FILE *f, int n, const char *const *fields) {
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        const char *s = fields[i] ? fields[i] : "";
        if (strpbrk(s, ",\"\r\n")) csv_fwrite(f, s, strlen(s));
        else fputs(s, f);
    }
    fputc('\n', f);
}

enum { CSV_MAX_FIELDS = 256 };

typedef struct {
    char *fields[CSV_MAX_FIELDS];
    int n;
    long line;
    CsvRowFn row;
    void *user;
    int stop;  // first non-zero return of row()
    int too_many;
} Parse;

static void on_field(void *s, size_t len, void *user) {
    Parse *p = user;
    if (p->n == CSV_MAX_FIELDS) {
        p->too_many = 1;
        return;
    }
    char *f = mallocCheck(len + 1);
    memcpy(f, s, len);
    f[len] = '\0';
    p->fields[p->n++] = f;
}

static void on_record(int c, void *user) {
    (void)c;
    Parse *p = user;
    p->line++;
    if (!p->stop && !p->too_many) p->stop = p->row(p->fields, p->n, p->line, p->user);
    for (int i = 0; i < p->n; i++) free(p->fields[i]);
    p->n = 0;
}

int csv_read(const char *path, CsvRowFn row, void *user, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct csv_parser parser;
    csv_init(&parser, CSV_APPEND_NULL);
    Parse p = {.row = row, .user = user};
    char buf[1 << 16];
    size_t got;
    int rc = 0;
    while (!p.stop && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (csv_parse(&parser, buf, got, on_field, on_record, &p) != got) {
            snprintf(err, errlen, "%s:%ld: malformed CSV: %s", path, p.line + 1,
                     csv_strerror(csv_error(&parser)));
            rc = -1;
            break;
        }
    }
    if (rc == 0 && !p.stop) csv_fini(&parser, on_field, on_record, &p);
    for (int i = 0; i < p.n; i++) free(p.fields[i]);
    csv_free(&parser);
    fclose(f);
    if (rc == 0 && p.too_many) {
        snprintf(err, errlen, "%s: a row has more than %d fields", path, CSV_MAX_FIELDS);
        return -1;
    }
    return rc ? rc : p.stop;
}

typedef struct {
    int n;
    const char *const *names;
} Header;

static int write_header(FILE *f, void *ctx, char *err, size_t errlen) {
    (void)err, (void)errlen;
    const Header *h = ctx;
    csv_write_row(f, h->n, h->names);
    return 0;
}

int csv_create(const char *path, int n, const char *const *header, char *err, size_t errlen) {
    Header h = {n, header};
    return atomic_write(path, write_header, &h, err, errlen);
}

typedef struct {
    FILE *out;
    long max_step;
    Header header;
} Keep;

static int is_header(char **fields, int n, const Header *h) {
    if (n != h->n) return 0;
    for (int i = 0; i < n; i++)
        if (strcmp(fields[i], h->names[i])) return 0;
    return 1;
}

// A data row: its step is a whole number (a torn last line of a killed run is not).
static int keep_row(char **fields, int n, long line, void *user) {
    Keep *k = user;
    if (line == 1 && is_header(fields, n, &k->header)) return 0;  // already written
    long step;
    if (n == k->header.n && !number_parse_long(fields[0], &step) && step <= k->max_step)
        csv_write_row(k->out, n, (const char *const *)fields);
    return 0;
}

int csv_keep_rows_upto(const char *path, long max_step, int n, const char *const *header,
                       char *err, size_t errlen) {
    if (access(path, F_OK) != 0) return csv_create(path, n, header, err, errlen);
    AtomicFile a;
    if (atomic_open(&a, path, err, errlen)) return -1;
    Keep k = {.out = a.f, .max_step = max_step, .header = {n, header}};
    csv_write_row(a.f, n, header);
    if (csv_read(path, keep_row, &k, err, errlen)) {
        atomic_abort(&a);
        return -1;
    }
    return atomic_commit(&a, err, errlen);
}
