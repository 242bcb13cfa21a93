// Results of an experiment: collected from run directories, saved/loaded as CSV.
#include "suite/lab/results.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/common.h"
#include "suite/csvio.h"
#include "suite/paths.h"

enum { TRAIN_POINTS_PER_RUN = 50 };

// ---- growing arrays --------------------------------------------------------------

// Room for one more item: the capacity doubles whenever count reaches a power of
// two, so the count is all a growing array needs to track.
static void *reserve_one(void *items, int count, size_t size) {
    if (count != 0 && (count & (count - 1)) != 0) return items;
    void *p = realloc(items, (size_t)(count ? 2 * count : 1) * size);
    if (!p) die("out of memory");
    return p;
}
#define PUSH(arr, n) (*((arr) = reserve_one((arr), (n), sizeof *(arr)), &(arr)[(n)++]))

static void copy_str(char *dst, size_t len, const char *src) {
    snprintf(dst, len, "%s", src ? src : "");
}

static double parse_num(const char *s) {
    if (!s || !*s) return NAN;
    char *end;
    double v = strtod(s, &end);
    return end == s ? NAN : v;
}

// ---- CSV reading by column name ------------------------------------------------

enum { MAX_COLS = 16 };

typedef struct {
    const char *const *want;  // column names, NULL-terminated
    int index[MAX_COLS];      // position of want[i] in the file, -1 if absent
    int (*row)(const char *const *fields, void *user);  // fields in want order ("" if absent)
    void *user;
    const char *path;
    char *err;
    size_t errlen;
} ColumnReader;

static int on_csv_row(char **fields, int n, long line, void *user) {
    ColumnReader *r = user;
    if (line == 1) {
        for (int i = 0; r->want[i]; i++) {
            r->index[i] = -1;
            for (int j = 0; j < n; j++)
                if (!strcmp(fields[j], r->want[i])) r->index[i] = j;
        }
        return 0;
    }
    if (n == 1 && !fields[0][0]) return 0;  // blank line
    const char *vals[MAX_COLS];
    for (int i = 0; r->want[i]; i++)
        vals[i] = r->index[i] >= 0 && r->index[i] < n ? fields[r->index[i]] : "";
    if (r->row(vals, r->user)) {
        snprintf(r->err, r->errlen, "%s:%ld: malformed row", r->path, line);
        return -1;
    }
    return 0;
}

// Missing file: 0 (nothing read). Else csv_read's result.
static int read_columns(const char *path, const char *const *want,
                        int (*row)(const char *const *, void *), void *user, char *err,
                        size_t errlen) {
    if (access(path, R_OK) != 0) return 0;
    ColumnReader r = {
        .want = want, .row = row, .user = user, .path = path, .err = err, .errlen = errlen};
    return csv_read(path, on_csv_row, &r, err, errlen) ? -1 : 0;
}

// ---- summary.csv / curves.csv / train.csv / downstream.csv -----------------------------

static const char *const SUMMARY_COLS[] = {
    "run",    "seed",   "model",           "dataset",          "scale", "device",
    "precision", "commit", "status", "final_eval_loss", "final_train_loss", "steps",
    "diverged_at", "elapsed_s", "c4_sample_eval_loss", NULL};
static const char *const CURVE_COLS[] = {"run", "seed", "step", "tokens", "eval_loss", "mode", NULL};
static const char *const TRAIN_COLS[] = {"run", "seed", "step", "train_loss", NULL};
static const char *const SCORE_COLS[] = {"run", "seed",   "task",        "examples", "acc",
                                         "acc_norm", "acc_se", "acc_norm_se", "status", NULL};
static const char *const SEEDS_COLS[] = {"run", "n_seeds", "final_eval_loss_mean",
                                         "final_eval_loss_std", "final_train_loss_mean",
                                         "final_train_loss_std", NULL};

// A seed column: absent (results from before seed replicates) reads as seed 1.
static long parse_seed(const char *s) { return s[0] ? strtol(s, NULL, 10) : 1; }

static int summary_row(const char *const *f, void *user) {
    ResultSet *rs = user;
    RunSummary *r = &PUSH(rs->runs, rs->n_runs);
    memset(r, 0, sizeof *r);
    copy_str(r->run, sizeof r->run, f[0]);
    r->seed = parse_seed(f[1]);
    copy_str(r->model, sizeof r->model, f[2]);
    copy_str(r->dataset, sizeof r->dataset, f[3]);
    copy_str(r->scale, sizeof r->scale, f[4]);
    copy_str(r->device, sizeof r->device, f[5]);
    copy_str(r->precision, sizeof r->precision, f[6]);
    copy_str(r->commit, sizeof r->commit, f[7]);
    r->status = run_status_parse(f[8]);
    r->final_eval_loss = parse_num(f[9]);
    r->final_train_loss = parse_num(f[10]);
    r->steps = f[11][0] ? strtol(f[11], NULL, 10) : 0;
    r->diverged_at = f[12][0] ? strtol(f[12], NULL, 10) : -1;
    r->elapsed_s = parse_num(f[13]);
    r->c4_sample_eval_loss = parse_num(f[14]);  // "" in files from before the column
    return !r->run[0];
}

static int curve_row(const char *const *f, void *user) {
    ResultSet *rs = user;
    CurvePoint *p = &PUSH(rs->evals, rs->n_evals);
    copy_str(p->run, sizeof p->run, f[0]);
    p->seed = parse_seed(f[1]);
    p->step = strtol(f[2], NULL, 10);
    p->tokens = strtol(f[3], NULL, 10);
    p->loss = parse_num(f[4]);
    copy_str(p->mode, sizeof p->mode, f[5]);
    return !p->run[0];
}

static int train_row(const char *const *f, void *user) {
    ResultSet *rs = user;
    CurvePoint *p = &PUSH(rs->train, rs->n_train);
    memset(p, 0, sizeof *p);
    copy_str(p->run, sizeof p->run, f[0]);
    p->seed = parse_seed(f[1]);
    p->step = strtol(f[2], NULL, 10);
    p->loss = parse_num(f[3]);
    copy_str(p->mode, sizeof p->mode, "train");
    return !p->run[0];
}

// Scores without standard errors (`suite downstream` before it wrote them): the
// binomial one of a proportion p over n examples, sqrt(p(1-p)/n), in points.
static void fill_binomial_se(TaskScore *s) {
    double n = (double)s->examples, p = s->acc / 100, q = s->acc_norm / 100;
    if (isnan(s->acc_se) && n > 0) s->acc_se = 100 * sqrt(p * (1 - p) / n);
    if (isnan(s->acc_norm_se) && n > 0) s->acc_norm_se = 100 * sqrt(q * (1 - q) / n);
}

static int score_row(const char *const *f, void *user) {
    ResultSet *rs = user;
    TaskScore *s = &PUSH(rs->scores, rs->n_scores);
    copy_str(s->run, sizeof s->run, f[0]);
    s->seed = parse_seed(f[1]);
    copy_str(s->task, sizeof s->task, f[2]);
    s->examples = strtol(f[3], NULL, 10);
    s->acc = parse_num(f[4]);
    s->acc_norm = parse_num(f[5]);
    s->acc_se = parse_num(f[6]);
    s->acc_norm_se = parse_num(f[7]);
    copy_str(s->status, sizeof s->status, f[8]);
    fill_binomial_se(s);
    return !s->task[0];
}

int results_load(const char *dir, ResultSet *rs, char *err, size_t errlen) {
    memset(rs, 0, sizeof *rs);
    char path[PATH_MAX];
#define READ(file, cols, fn)                             \
    snprintf(path, sizeof path, "%s/" file, dir);        \
    if (read_columns(path, cols, fn, rs, err, errlen)) { \
        results_free(rs);                                \
        return -1;                                       \
    }
    READ("summary.csv", SUMMARY_COLS, summary_row)
    READ("curves.csv", CURVE_COLS, curve_row)
    READ("train.csv", TRAIN_COLS, train_row)
    READ("downstream.csv", SCORE_COLS, score_row)
#undef READ
    return 0;
}

static void fmt_num(char *buf, size_t len, double v) {
    if (isnan(v)) buf[0] = '\0';
    else snprintf(buf, len, "%.6g", v);
}

static FILE *open_out(const char *dir, const char *file, const char *const *cols, char *path,
                      char *err, size_t errlen) {
    snprintf(path, PATH_MAX, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write", path);
        return NULL;
    }
    int n = 0;
    while (cols[n]) n++;
    csv_write_row(f, n, cols);
    return f;
}

static int close_out(FILE *f, const char *path, char *err, size_t errlen) {
    if (fclose(f) == 0) return 0;
    snprintf(err, errlen, "%s: write failed", path);
    return -1;
}

static int save_summary(const char *dir, const ResultSet *rs, char *err, size_t errlen) {
    char path[PATH_MAX], seed[24], a[32], b[32], c[32], d[32], e[32], c4[32];
    FILE *f = open_out(dir, "summary.csv", SUMMARY_COLS, path, err, errlen);
    if (!f) return -1;
    for (int i = 0; i < rs->n_runs; i++) {
        const RunSummary *r = &rs->runs[i];
        snprintf(seed, sizeof seed, "%ld", r->seed);
        fmt_num(a, sizeof a, r->final_eval_loss);
        fmt_num(b, sizeof b, r->final_train_loss);
        snprintf(c, sizeof c, "%ld", r->steps);
        if (r->diverged_at >= 0) snprintf(d, sizeof d, "%ld", r->diverged_at);
        else d[0] = '\0';
        fmt_num(e, sizeof e, r->elapsed_s);
        fmt_num(c4, sizeof c4, r->c4_sample_eval_loss);
        const char *row[] = {r->run,       seed,      r->model, r->dataset, r->scale,
                             r->device,    r->precision, r->commit,
                             run_status_name(r->status), a, b, c, d, e, c4};
        csv_write_row(f, 15, row);
    }
    return close_out(f, path, err, errlen);
}

// One row per run name: the noise every verdict is judged against.
static int save_seeds(const char *dir, const ResultSet *rs, char *err, size_t errlen) {
    char path[PATH_MAX], n[16], v[4][32];
    FILE *f = open_out(dir, "seeds.csv", SEEDS_COLS, path, err, errlen);
    if (!f) return -1;
    for (int i = 0; i < rs->n_runs; i++) {
        if (results_find_run(rs, rs->runs[i].run) != &rs->runs[i]) continue;  // once per name
        SeedStats ev = results_run_stats(rs, rs->runs[i].run, "eval_loss");
        SeedStats tr = results_run_stats(rs, rs->runs[i].run, "train_loss");
        snprintf(n, sizeof n, "%d", ev.n > tr.n ? ev.n : tr.n);
        fmt_num(v[0], sizeof v[0], ev.n ? ev.mean : NAN);
        fmt_num(v[1], sizeof v[1], ev.std);
        fmt_num(v[2], sizeof v[2], tr.n ? tr.mean : NAN);
        fmt_num(v[3], sizeof v[3], tr.std);
        const char *row[] = {rs->runs[i].run, n, v[0], v[1], v[2], v[3]};
        csv_write_row(f, 6, row);
    }
    return close_out(f, path, err, errlen);
}

// curves.csv (eval) or train.csv: run, seed, step, [tokens,] loss, [mode].
static int save_curve(const char *dir, const char *file, const CurvePoint *pts, int n, int eval,
                      char *err, size_t errlen) {
    char path[PATH_MAX], seed[24], a[32], b[32], c[32];
    FILE *f = open_out(dir, file, eval ? CURVE_COLS : TRAIN_COLS, path, err, errlen);
    if (!f) return -1;
    for (int i = 0; i < n; i++) {
        const CurvePoint *p = &pts[i];
        snprintf(seed, sizeof seed, "%ld", p->seed);
        snprintf(a, sizeof a, "%ld", p->step);
        snprintf(b, sizeof b, "%ld", p->tokens);
        fmt_num(c, sizeof c, p->loss);
        const char *eval_row[] = {p->run, seed, a, b, c, p->mode};
        const char *train_row[] = {p->run, seed, a, c};
        if (eval) csv_write_row(f, 6, eval_row);
        else csv_write_row(f, 4, train_row);
    }
    return close_out(f, path, err, errlen);
}

static int save_scores(const char *dir, const ResultSet *rs, char *err, size_t errlen) {
    char path[PATH_MAX], seed[24], a[32], v[4][32];
    FILE *f = open_out(dir, "downstream.csv", SCORE_COLS, path, err, errlen);
    if (!f) return -1;
    for (int i = 0; i < rs->n_scores; i++) {
        const TaskScore *s = &rs->scores[i];
        snprintf(seed, sizeof seed, "%ld", s->seed);
        snprintf(a, sizeof a, "%ld", s->examples);
        fmt_num(v[0], sizeof v[0], s->acc);
        fmt_num(v[1], sizeof v[1], s->acc_norm);
        fmt_num(v[2], sizeof v[2], s->acc_se);
        fmt_num(v[3], sizeof v[3], s->acc_norm_se);
        const char *row[] = {s->run, seed, s->task, a, v[0], v[1], v[2], v[3], s->status};
        csv_write_row(f, 9, row);
    }
    return close_out(f, path, err, errlen);
}

int results_save(const char *dir, const ResultSet *rs, char *err, size_t errlen) {
    if (make_dirs(dir, err, errlen)) return -1;
    if (save_summary(dir, rs, err, errlen) || save_seeds(dir, rs, err, errlen) ||
        save_curve(dir, "curves.csv", rs->evals, rs->n_evals, 1, err, errlen) ||
        save_curve(dir, "train.csv", rs->train, rs->n_train, 0, err, errlen))
        return -1;
    return save_scores(dir, rs, err, errlen);
}

void results_free(ResultSet *rs) {
    free(rs->runs);
    free(rs->evals);
    free(rs->train);
    free(rs->scores);
    memset(rs, 0, sizeof *rs);
}

const RunSummary *results_find_run(const ResultSet *rs, const char *run) {
    for (int i = 0; i < rs->n_runs; i++)
        if (!strcmp(rs->runs[i].run, run)) return &rs->runs[i];
    return NULL;
}

const TaskScore *results_find_score(const ResultSet *rs, const char *run, const char *task) {
    for (int i = 0; i < rs->n_scores; i++)
        if (!strcmp(rs->scores[i].run, run) && !strcmp(rs->scores[i].task, task))
            return &rs->scores[i];
    return NULL;
}

// ---- collecting a run directory --------------------------------------------------

static json_t *load_json(const char *dir, const char *file) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return json_load_file(path, 0, NULL);
}

typedef struct {
    ResultSet *rs;
    const char *run;
    long seed;
} RunRows;

static int eval_row(const char *const *f, void *user) {
    RunRows *r = user;
    CurvePoint *p = &PUSH(r->rs->evals, r->rs->n_evals);
    copy_str(p->run, sizeof p->run, r->run);
    p->seed = r->seed;
    p->step = strtol(f[0], NULL, 10);
    p->tokens = strtol(f[1], NULL, 10);
    p->loss = parse_num(f[2]);
    copy_str(p->mode, sizeof p->mode, f[3]);
    return 0;
}

typedef struct {
    long step;
    double loss;
} StepLoss;

typedef struct {
    StepLoss *items;
    int n;
    double elapsed_s;  // of the last row
} Series;

static int metrics_row(const char *const *f, void *user) {
    Series *s = user;
    PUSH(s->items, s->n) = (StepLoss){strtol(f[0], NULL, 10), parse_num(f[1])};
    s->elapsed_s = parse_num(f[2]);
    return 0;
}

static int run_score_row(const char *const *f, void *user) {
    RunRows *r = user;
    TaskScore *s = &PUSH(r->rs->scores, r->rs->n_scores);
    copy_str(s->run, sizeof s->run, r->run);
    s->seed = r->seed;
    copy_str(s->task, sizeof s->task, f[0]);
    s->examples = strtol(f[1], NULL, 10);
    s->acc = parse_num(f[2]);
    s->acc_norm = parse_num(f[3]);
    copy_str(s->status, sizeof s->status, f[4]);
    s->acc_se = parse_num(f[5]);
    s->acc_norm_se = parse_num(f[6]);
    fill_binomial_se(s);
    return !s->task[0];
}

// eval-c4-sample.csv's one row: the loss, which must be a number.
static int beside_row(const char *const *f, void *user) {
    RunSummary *sum = user;
    sum->c4_sample_eval_loss = parse_num(f[0]);
    return isnan(sum->c4_sample_eval_loss);
}

// The training loss curve as window means (at most TRAIN_POINTS_PER_RUN points, so
// a 150K-step run stays a small file and a noisy curve reads as a trend), and the
// final training loss: the mean over the last tenth of the logged steps.
static void add_train_curve(ResultSet *rs, const RunRows *run, const Series *s, RunSummary *sum) {
    if (s->n == 0) return;
    int window = (s->n + TRAIN_POINTS_PER_RUN - 1) / TRAIN_POINTS_PER_RUN;
    for (int start = 0; start < s->n; start += window) {
        int end = start + window < s->n ? start + window : s->n;
        double total = 0;
        for (int i = start; i < end; i++) total += s->items[i].loss;
        CurvePoint *p = &PUSH(rs->train, rs->n_train);
        memset(p, 0, sizeof *p);
        copy_str(p->run, sizeof p->run, run->run);
        p->seed = run->seed;
        copy_str(p->mode, sizeof p->mode, "train");
        p->step = s->items[end - 1].step;
        p->loss = total / (end - start);
    }
    int tail = s->n / 10 > 0 ? s->n / 10 : 1;
    double total = 0;
    for (int i = s->n - tail; i < s->n; i++) total += s->items[i].loss;
    sum->final_train_loss = total / tail;
    sum->elapsed_s = s->elapsed_s;
}

int results_collect_run(ResultSet *rs, const char *run_dir, const char *run_name, long seed,
                        const char *model, const char *scale, char *err, size_t errlen) {
    RunSummary sum;
    memset(&sum, 0, sizeof sum);
    copy_str(sum.run, sizeof sum.run, run_name);
    sum.seed = seed;
    sum.elapsed_s = NAN;
    copy_str(sum.model, sizeof sum.model, model);
    copy_str(sum.scale, sizeof sum.scale, scale);
    sum.final_eval_loss = sum.final_train_loss = sum.c4_sample_eval_loss = NAN;
    sum.diverged_at = -1;

    json_t *status = load_json(run_dir, RUNDIR_STATUS);
    sum.status = run_status_parse(status ? json_string_value(json_object_get(status, "status")) : NULL);
    if (status) {
        sum.steps = (long)json_integer_value(json_object_get(status, "step"));
        json_t *loss = json_object_get(status, "final_eval_loss");
        if (json_is_number(loss)) sum.final_eval_loss = json_number_value(loss);
        json_t *div = json_object_get(status, "diverged_at");
        if (json_is_integer(div)) sum.diverged_at = (long)json_integer_value(div);
        json_decref(status);
    }
    json_t *config = load_json(run_dir, RUNDIR_CONFIG);
    if (config) {
        copy_str(sum.dataset, sizeof sum.dataset,
                 json_string_value(json_object_get(config, CONFIG_TRAIN_DATASET)));
        copy_str(sum.device, sizeof sum.device,
                 json_string_value(json_object_get(config, CONFIG_DEVICE)));
        copy_str(sum.precision, sizeof sum.precision,
                 json_string_value(json_object_get(config, CONFIG_PRECISION)));
        copy_str(sum.commit, sizeof sum.commit,
                 json_string_value(json_object_get(config, CONFIG_COMMIT)));
        json_decref(config);
    }

    char path[PATH_MAX];
    RunRows rows = {rs, run_name, seed};
    const char *const eval_cols[] = {EVAL_COLS[EVAL_STEP], EVAL_COLS[EVAL_TOKENS],
                                     EVAL_COLS[EVAL_LOSS], EVAL_COLS[EVAL_MODE], NULL};
    const char *const metric_cols[] = {METRICS_COLS[METRICS_STEP], METRICS_COLS[METRICS_LOSS],
                                       METRICS_COLS[METRICS_ELAPSED_S], NULL};
    static const char *const score_cols[] = {"task",   "examples", "acc",        "acc_norm",
                                             "status", "acc_se",   "acc_norm_se", NULL};
    snprintf(path, sizeof path, "%s/" RUNDIR_EVAL, run_dir);
    if (read_columns(path, eval_cols, eval_row, &rows, err, errlen)) return -1;
    Series series = {.elapsed_s = NAN};
    snprintf(path, sizeof path, "%s/" RUNDIR_METRICS, run_dir);
    int rc = read_columns(path, metric_cols, metrics_row, &series, err, errlen);
    if (!rc) add_train_curve(rs, &rows, &series, &sum);
    free(series.items);
    if (rc) return -1;
    snprintf(path, sizeof path, "%s/" RUNDIR_DOWNSTREAM_CSV, run_dir);
    if (read_columns(path, score_cols, run_score_row, &rows, err, errlen)) return -1;
    static const char *const beside_cols[] = {EVAL_OUT_LOSS_COL, NULL};
    snprintf(path, sizeof path, "%s/" RUNDIR_BESIDE_CSV, run_dir);
    if (read_columns(path, beside_cols, beside_row, &sum, err, errlen)) return -1;

    PUSH(rs->runs, rs->n_runs) = sum;
    return 0;
}
