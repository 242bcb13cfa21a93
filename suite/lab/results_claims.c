// Published claims: loading published.csv and judging each claim from results.
#include "suite/lab/results_claims.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/base/error.h"
#include "kernels/common.h"
#include "suite/csvio.h"

static const char *const RULE_NAMES[] = {"better", "improving", "speedup", "degrades_more",
                                         "spike",  "recovers",  "accuracy"};
enum { N_RULES = sizeof(RULE_NAMES) / sizeof(RULE_NAMES[0]) };

static const char *const VERDICT_NAMES[] = {"holds", "fails", "not run", "diverged", "n/a"};

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
    memset(c, 0, sizeof *c);
    if (!has_text(f[COL_ID], sizeof c->id) || !has_text(f[COL_CLAIM], sizeof c->claim) ||
        !has_text(f[COL_PUBLISHED], sizeof c->published) ||
        !has_text(f[COL_EXPERIMENT], sizeof c->experiment) ||
        !has_text(f[COL_METRIC], sizeof c->metric) || !has_text(f[COL_SOURCE], sizeof c->source))
        return row_fail(r, line, "a field is too long");
    snprintf(c->id, sizeof c->id, "%s", f[COL_ID]);
    snprintf(c->experiment, sizeof c->experiment, "%s", f[COL_EXPERIMENT]);
    snprintf(c->claim, sizeof c->claim, "%s", f[COL_CLAIM]);
    snprintf(c->published, sizeof c->published, "%s", f[COL_PUBLISHED]);
    snprintf(c->metric, sizeof c->metric, "%s", f[COL_METRIC]);
    snprintf(c->source, sizeof c->source, "%s", f[COL_SOURCE]);
    if (!c->id[0]) return row_fail(r, line, "empty id");

    int rule = -1;
    for (int i = 0; i < N_RULES; i++)
        if (!strcmp(f[COL_RULE], RULE_NAMES[i])) rule = i;
    if (rule < 0)
        return row_fail(r, line,
                        "unknown rule '%s' (better, improving, speedup, degrades_more, "
                        "spike, recovers, accuracy)",
                        f[COL_RULE]);
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
    int need_ref =
        c->rule == RULE_BETTER || c->rule == RULE_SPEEDUP || c->rule == RULE_DEGRADES_MORE;
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

// ---- measuring ---------------------------------------------------------------------

static void appendf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t len, const char *fmt, ...) {
    size_t used = strlen(buf);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

// snprintf that may cut long run names short without a compiler warning.
static void setf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setf(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

typedef struct {
    Verdict verdict;  // HOLDS means "measured"; NOT_RUN / DIVERGED say why not
    double value;
    char why[96];
} Measure;

static int lower_is_better(const char *metric) {
    return !strncmp(metric, "eval_loss", 9) || !strncmp(metric, "train_loss", 10);
}

// a better than b, allowing a to be worse by less than tol.
static int better(const char *metric, double a, double b, double tol) {
    return lower_is_better(metric) ? a < b + tol : a > b - tol;
}

// Is the run there and finished? NOT_RUN / DIVERGED with the reason otherwise.
static Measure run_state(const ResultSet *rs, const char *run) {
    Measure m = {VERDICT_HOLDS, NAN, ""};
    const RunSummary *s = results_find_run(rs, run);
    if (!s || s->status == RUN_STATUS_NONE) {
        m.verdict = VERDICT_NOT_RUN;
        setf(m.why, sizeof m.why, "%s not run", run);
    } else if (s->status == RUN_STATUS_DIVERGED) {
        m.verdict = VERDICT_DIVERGED;
        setf(m.why, sizeof m.why, "%s diverged at step %ld", run, s->diverged_at);
    } else if (s->status != RUN_STATUS_FINISHED) {
        m.verdict = VERDICT_NOT_RUN;
        setf(m.why, sizeof m.why, "%s %s at step %ld", run, run_status_name(s->status), s->steps);
    }
    return m;
}

static Measure measure(const ResultSet *rs, const char *run, const char *metric) {
    Measure m = run_state(rs, run);
    if (m.verdict != VERDICT_HOLDS) return m;
    const RunSummary *s = results_find_run(rs, run);
    if (!strcmp(metric, "eval_loss")) m.value = s->final_eval_loss;
    else if (!strcmp(metric, "train_loss")) m.value = s->final_train_loss;
    else {
        int norm = !strncmp(metric, "acc_norm:", 9);
        const char *task = strchr(metric, ':') + 1;
        const TaskScore *t = results_find_score(rs, run, task);
        if (!t || strcmp(t->status, "ok")) {
            m.verdict = VERDICT_NOT_RUN;
            setf(m.why, sizeof m.why, "%s: %s not scored%s", run, task,
                 t && !strcmp(task, "hellaswag") ? " (no hellaswag_val.jsonl)" : "");
            return m;
        }
        m.value = norm ? t->acc_norm : t->acc;
    }
    if (isnan(m.value)) {
        m.verdict = VERDICT_NOT_RUN;
        setf(m.why, sizeof m.why, "%s has no %s", run, metric);
    }
    return m;
}

// The eval points of run with the given mode ("" = any), in file (step) order.
static int curve_of(const ResultSet *rs, const char *run, const char *mode, const CurvePoint **out,
                    int max) {
    int n = 0;
    for (int i = 0; i < rs->n_evals && n < max; i++)
        if (!strcmp(rs->evals[i].run, run) && (!mode[0] || !strcmp(rs->evals[i].mode, mode)))
            out[n++] = &rs->evals[i];
    return n;
}

enum { MAX_POINTS = 4096 };

// First step (linearly interpolated between evals) where run's eval loss reaches
// target; -1 if it never does.
static double steps_to_reach(const ResultSet *rs, const char *run, double target) {
    const CurvePoint *pts[MAX_POINTS];
    int n = curve_of(rs, run, "", pts, MAX_POINTS);
    for (int i = 0; i < n; i++) {
        if (!(pts[i]->loss <= target)) continue;
        if (i == 0 || pts[i - 1]->loss == pts[i]->loss) return (double)pts[i]->step;
        double frac = (pts[i - 1]->loss - target) / (pts[i - 1]->loss - pts[i]->loss);
        return pts[i - 1]->step + frac * (double)(pts[i]->step - pts[i - 1]->step);
    }
    return -1;
}

static ClaimResult judge_speedup(const Claim *c, const ResultSet *rs, const Measure *ref) {
    ClaimResult out = {VERDICT_FAILS, ""};
    const RunSummary *dense = results_find_run(rs, c->reference[0]);
    double best = -1;
    const char *best_run = NULL;
    double best_step = 0;
    for (int i = 0; i < c->n_runs; i++) {
        double s = steps_to_reach(rs, c->runs[i], ref->value);
        if (s > 0 && (best < 0 || dense->steps / s > best)) {
            best = dense->steps / s;
            best_run = c->runs[i];
            best_step = s;
        }
    }
    if (!best_run) {
        setf(out.measured, sizeof out.measured, "no MoT run reached %.4f (dense final)",
             ref->value);
        return out;
    }
    setf(out.measured, sizeof out.measured, "%.2fx (%s reaches %.4f at step %.0f of %ld)", best,
         best_run, ref->value, best_step, dense->steps);
    if (best >= strtod(c->published, NULL) - c->tolerance) out.verdict = VERDICT_HOLDS;
    return out;
}

// The switch step of a transition run: the first eval in TC mode, with the MoT
// eval at the same step. 0, or -1 with why.
static int switch_point(const ResultSet *rs, const char *run, const CurvePoint **mot,
                        const CurvePoint **tc, char *why, size_t len) {
    const CurvePoint *tcs[MAX_POINTS], *mots[MAX_POINTS];
    int n_tc = curve_of(rs, run, "tc", tcs, MAX_POINTS);
    int n_mot = curve_of(rs, run, "mot", mots, MAX_POINTS);
    *tc = n_tc ? tcs[0] : NULL;
    *mot = NULL;
    for (int i = 0; *tc && i < n_mot; i++)
        if (mots[i]->step == (*tc)->step) *mot = mots[i];
    if (*mot) return 0;
    setf(why, len, "%s has no eval in both modes at the switch", run);
    return -1;
}

static ClaimResult judge_transition(const Claim *c, const ResultSet *rs) {
    ClaimResult out = {VERDICT_FAILS, ""};
    const CurvePoint *mot, *tc;
    if (switch_point(rs, c->runs[0], &mot, &tc, out.measured, sizeof out.measured)) {
        out.verdict = VERDICT_NOT_RUN;
        return out;
    }
    if (c->rule == RULE_SPIKE) {
        double jump = tc->loss - mot->loss;
        setf(out.measured, sizeof out.measured, "%+.4f at step %ld (%.4f MoT -> %.4f TC)", jump,
             tc->step, mot->loss, tc->loss);
        if (jump > c->tolerance) out.verdict = VERDICT_HOLDS;
        return out;
    }
    const CurvePoint *tcs[MAX_POINTS];
    int n = curve_of(rs, c->runs[0], "tc", tcs, MAX_POINTS);
    double best = NAN;
    for (int i = 1; i < n; i++) {
        if (tcs[i]->loss <= mot->loss + c->tolerance) {
            setf(out.measured, sizeof out.measured,
                 "at step %ld, %d evals after the switch (%.4f <= %.4f)", tcs[i]->step, i,
                 tcs[i]->loss, mot->loss);
            out.verdict = VERDICT_HOLDS;
            return out;
        }
        if (isnan(best) || tcs[i]->loss < best) best = tcs[i]->loss;
    }
    if (n <= 1) setf(out.measured, sizeof out.measured, "no eval after the switch");
    else
        setf(out.measured, sizeof out.measured, "not within %d evals (best %.4f > %.4f)", n - 1,
             best, mot->loss);
    return out;
}

// Each run better than every reference run. Losses to 4 decimals (tiny-scale runs
// differ in the third), accuracies to 1.
static ClaimResult judge_better(const Claim *c, const Measure *m, int n) {
    ClaimResult out = {VERDICT_FAILS, ""};
    int loss = lower_is_better(c->metric), ok = 1;
    for (int i = 0; i < c->n_runs; i++) {
        appendf(out.measured, sizeof out.measured, loss ? "%s%.4f" : "%s%.1f", i ? ", " : "",
                m[i].value);
        for (int j = c->n_runs; j < n; j++)
            ok &= better(c->metric, m[i].value, m[j].value, c->tolerance);
    }
    appendf(out.measured, sizeof out.measured, " vs");
    for (int j = c->n_runs; j < n; j++)
        appendf(out.measured, sizeof out.measured, loss ? "%s %.4f" : "%s %.1f",
                j > c->n_runs ? "," : "", m[j].value);
    if (ok) out.verdict = VERDICT_HOLDS;
    return out;
}

// Each run better than the one before it.
static ClaimResult judge_improving(const Claim *c, const Measure *m) {
    ClaimResult out = {VERDICT_FAILS, ""};
    int loss = lower_is_better(c->metric), ok = 1;
    for (int i = 0; i < c->n_runs; i++) {
        appendf(out.measured, sizeof out.measured, loss ? "%s%.4f" : "%s%.1f",
                i ? (loss ? " > " : " < ") : "", m[i].value);
        if (i) ok &= better(c->metric, m[i].value, m[i - 1].value, c->tolerance);
    }
    if (ok) out.verdict = VERDICT_HOLDS;
    return out;
}

// The first pair's bf16 loss rises more than the second pair's (m: a fp32/bf16, b fp32/bf16).
static ClaimResult judge_degrades_more(const Claim *c, const Measure *m, int a_bf16_diverged) {
    ClaimResult out = {VERDICT_FAILS, ""};
    double rise_b = m[3].value - m[2].value;
    if (a_bf16_diverged) {
        setf(out.measured, sizeof out.measured, "%s; %s rises %+.4f", m[1].why, c->reference[1],
             rise_b);
        out.verdict = VERDICT_HOLDS;
        return out;
    }
    double rise_a = m[1].value - m[0].value;
    setf(out.measured, sizeof out.measured, "bf16 rise %+.4f vs %+.4f", rise_a, rise_b);
    if (rise_a > rise_b + c->tolerance) out.verdict = VERDICT_HOLDS;
    return out;
}

// N/A with the scales the claim is checked at, when e's scale is not one of them.
static int not_at_this_scale(const Claim *c, const Experiment *e, ClaimResult *out) {
    if (c->scales & (1u << e->scale)) return 0;
    setf(out->measured, sizeof out->measured, "checked at");
    for (int s = 0; s < N_SCALES; s++)
        if (c->scales & (1u << s)) appendf(out->measured, sizeof out->measured, " %s", scale_name(s));
    appendf(out->measured, sizeof out->measured, " scale only");
    return 1;
}

ClaimResult claim_evaluate(const Claim *c, const Experiment *e, const ResultSet *rs) {
    ClaimResult out = {VERDICT_NA, ""};
    if (not_at_this_scale(c, e, &out)) return out;
    // Every run the claim names, runs first then reference.
    const char *names[2 * CLAIM_MAX_RUNS];
    int n = 0;
    for (int i = 0; i < c->n_runs; i++) names[n++] = c->runs[i];
    for (int i = 0; i < c->n_reference; i++) names[n++] = c->reference[i];
    for (int i = 0; i < n; i++)
        if (experiment_find_run(e, names[i]) < 0) {
            setf(out.measured, sizeof out.measured, "%s is not run at %s scale", names[i],
                 scale_name(e->scale));
            return out;
        }

    Measure m[2 * CLAIM_MAX_RUNS] = {0};
    for (int i = 0; i < n; i++) m[i] = measure(rs, names[i], c->metric);
    // EC diverging in bf16 is the instability the claim is about.
    int a_bf16_diverged = c->rule == RULE_DEGRADES_MORE && m[1].verdict == VERDICT_DIVERGED;
    // Diverged outranks not run: it is a result, not a missing one.
    static const Verdict blocking[] = {VERDICT_DIVERGED, VERDICT_NOT_RUN};
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < n; i++)
            if (m[i].verdict == blocking[b] && !(a_bf16_diverged && i == 1)) {
                out.verdict = blocking[b];
                setf(out.measured, sizeof out.measured, "%s", m[i].why);
                return out;
            }

    switch (c->rule) {
        case RULE_BETTER: return judge_better(c, m, n);
        case RULE_IMPROVING: return judge_improving(c, m);
        case RULE_SPEEDUP: return judge_speedup(c, rs, &m[c->n_runs]);
        case RULE_DEGRADES_MORE: return judge_degrades_more(c, m, a_bf16_diverged);
        case RULE_SPIKE:
        case RULE_RECOVERS: return judge_transition(c, rs);
        case RULE_ACCURACY:
            out.verdict = VERDICT_FAILS;
            setf(out.measured, sizeof out.measured, "%.1f", m[0].value);
            if (fabs(m[0].value - strtod(c->published, NULL)) <= c->tolerance)
                out.verdict = VERDICT_HOLDS;
            return out;
    }
    return out;
}
