// Published claims: loading published.csv (judging them: results_verdict.c).
#include "suite/lab/results_claims.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/base/error.h"
#include "kernels/common.h"
#include "suite/csvio.h"

static const char *const RULE_NAMES[] = {"better", "improving", "speedup",  "degrades_more",
                                         "spike",  "recovers",  "accuracy", "matches"};
enum { N_RULES = sizeof(RULE_NAMES) / sizeof(RULE_NAMES[0]) };

static const char *const VERDICT_NAMES[N_VERDICTS] = {
    "holds", "fails", "not run", "diverged", "n/a", "inconclusive", "smoke"};

const char *verdict_name(Verdict v) { return VERDICT_NAMES[v]; }

// ---- published.csv ------------------------------------------------------------------

static const char *const COLUMNS[] = {"id",        "experiment", "claim", "published",
                                      "rule",      "metric",     "runs",  "reference",
                                      "tolerance", "scales",     "source"};
enum { N_COLUMNS = sizeof(COLUMNS) / sizeof(COLUMNS[0]) };
enum {
    COL_ID,
    COL_EXPERIMENT,
    COL_CLAIM,
    COL_PUBLISHED,
    COL_RULE,
    COL_METRIC,
    COL_RUNS,
    COL_REFERENCE,
    COL_TOLERANCE,
    COL_SCALES,
    COL_SOURCE
};

typedef struct {
    const char *path;
    Claim *claims;
    int n, cap;
    char *err;
    size_t errlen;
} ClaimReader;

static int row_fail(ClaimReader *r, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int row_fail(ClaimReader *r, long line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror_at(r->err, r->errlen, r->path, line, fmt, ap);
    va_end(ap);
    return -1;
}

// "a;b;c" -> names; at most CLAIM_MAX_RUNS.
static int split_names(const char *list, char names[][RES_NAME_LEN], int *n) {
    *n = 0;
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ";");
        if (*n == CLAIM_MAX_RUNS || len >= RES_NAME_LEN) return -1;
        snprintf(names[(*n)++], RES_NAME_LEN, "%.*s", (int)len, p);
        p += len + (p[len] == ';');
    }
    return 0;
}

static int has_text(const char *s, size_t cap) { return strlen(s) < cap; }

// The claim's text fields; -1 when one does not fit.
static int copy_texts(Claim *c, char **f) {
    memset(c, 0, sizeof *c);
    if (!has_text(f[COL_ID], sizeof c->id) || !has_text(f[COL_CLAIM], sizeof c->claim) ||
        !has_text(f[COL_PUBLISHED], sizeof c->published) ||
        !has_text(f[COL_EXPERIMENT], sizeof c->experiment) ||
        !has_text(f[COL_METRIC], sizeof c->metric) || !has_text(f[COL_SOURCE], sizeof c->source))
        return -1;
    snprintf(c->id, sizeof c->id, "%s", f[COL_ID]);
    snprintf(c->experiment, sizeof c->experiment, "%s", f[COL_EXPERIMENT]);
    snprintf(c->claim, sizeof c->claim, "%s", f[COL_CLAIM]);
    snprintf(c->published, sizeof c->published, "%s", f[COL_PUBLISHED]);
    snprintf(c->metric, sizeof c->metric, "%s", f[COL_METRIC]);
    snprintf(c->source, sizeof c->source, "%s", f[COL_SOURCE]);
    return 0;
}

static int claim_row(char **f, int n, long line, void *user) {
    ClaimReader *r = user;
    if (line == 1) {
        for (int i = 0; i < N_COLUMNS; i++)
            if (i >= n || strcmp(f[i], COLUMNS[i]))
                return row_fail(r, line, "header column %d must be '%s'", i + 1, COLUMNS[i]);
        return 0;
    }
    if (n != N_COLUMNS) return row_fail(r, line, "%d fields, expected %d", n, N_COLUMNS);
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 32;
        r->claims = realloc(r->claims, r->cap * sizeof(Claim));
        if (!r->claims) die("out of memory");
    }
    Claim *c = &r->claims[r->n];
    if (copy_texts(c, f)) return row_fail(r, line, "a field is too long");
    if (!c->id[0]) return row_fail(r, line, "empty id");

    int rule = -1;
    for (int i = 0; i < N_RULES; i++)
        if (!strcmp(f[COL_RULE], RULE_NAMES[i])) rule = i;
    if (rule < 0) {
        char known[128] = "";
        for (int i = 0; i < N_RULES; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     RULE_NAMES[i]);
        return row_fail(r, line, "unknown rule '%s' (%s)", f[COL_RULE], known);
    }
    c->rule = (ClaimRule)rule;
    if (strcmp(c->metric, "eval_loss") && strcmp(c->metric, "train_loss") &&
        strncmp(c->metric, "acc:", 4) && strncmp(c->metric, "acc_norm:", 9))
        return row_fail(r, line,
                        "unknown metric '%s' (eval_loss, train_loss, acc:TASK, "
                        "acc_norm:TASK)",
                        c->metric);
    if (split_names(f[COL_RUNS], c->runs, &c->n_runs) || c->n_runs == 0 ||
        split_names(f[COL_REFERENCE], c->reference, &c->n_reference))
        return row_fail(r, line, "runs/reference: 1 to %d run names separated by ';'",
                        CLAIM_MAX_RUNS);
    int need_ref = c->rule == RULE_BETTER || c->rule == RULE_MATCHES || c->rule == RULE_SPEEDUP ||
                   c->rule == RULE_DEGRADES_MORE || c->rule == RULE_RECOVERS;
    if (need_ref && c->n_reference == 0)
        return row_fail(r, line, "rule %s needs a reference run", f[COL_RULE]);
    if (c->rule == RULE_DEGRADES_MORE && (c->n_runs != 2 || c->n_reference != 2))
        return row_fail(r, line, "degrades_more takes 'A mixed;A bf16' and 'B mixed;B bf16'");
    char *end;
    c->tolerance = strtod(f[COL_TOLERANCE], &end);
    if (end == f[COL_TOLERANCE] || *end || c->tolerance < 0)
        return row_fail(r, line, "tolerance '%s' is not a number >= 0", f[COL_TOLERANCE]);
    if ((c->rule == RULE_SPEEDUP || c->rule == RULE_ACCURACY) &&
        (strtod(c->published, &end), *end || end == c->published))
        return row_fail(r, line, "rule %s needs a numeric published value", f[COL_RULE]);
    for (const char *p = f[COL_SCALES]; *p;) {
        size_t len = strcspn(p, ";");
        char name[16];
        Scale s;
        snprintf(name, sizeof name, "%.*s", (int)(len < 15 ? len : 15), p);
        if (scale_parse(name, &s)) return row_fail(r, line, "unknown scale '%s'", name);
        c->scales |= 1u << s;
        p += len + (p[len] == ';');
    }
    r->n++;
    return 0;
}

int claims_load(const char *path, Claim **out, int *n, char *err, size_t errlen) {
    ClaimReader r = {.path = path, .err = err, .errlen = errlen};
    int rc = csv_read(path, claim_row, &r, err, errlen);
    if (rc) {
        free(r.claims);
        *out = NULL;
        *n = 0;
        return -1;
    }
    *out = r.claims;
    *n = r.n;
    return 0;
}
