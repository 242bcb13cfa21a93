// The runner's plan for one run: `suite train` arguments generated from the option
// table, the run key, train.args, and what to do with an existing run directory.
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/base/hash.h"
#include "kernels/common.h"
#include "suite/lab/runner_internal.h"
#include "suite/number.h"
#include "suite/rundir.h"

// ---- string lists ---------------------------------------------------------------

void strlist_push(StrList *l, const char *s) {
    l->items = realloc(l->items, (l->count + 2) * sizeof(char *));
    if (!l->items) die("out of memory");
    l->items[l->count++] = strdup(s);
    l->items[l->count] = NULL;  // always NULL-terminated: ready for execv
}

void strlist_pushf(StrList *l, const char *fmt, ...) {
    char buf[PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    strlist_push(l, buf);
}

void strlist_free(StrList *l) {
    for (int i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

void strlist_key(const StrList *l, char key[17]) {
    uint64_t h = HASH64_INIT;
    for (int i = 0; i < l->count; i++) h = hash64(l->items[i], strlen(l->items[i]) + 1, h);
    snprintf(key, 17, "%016llx", (unsigned long long)h);
}

// ---- the run key -------------------------------------------------------------------

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

// Canonical text of an option's default, "" for a derived one.
static void default_text(const TrainOption *opt, char *out, size_t len) {
    char why[128];
    out[0] = '\0';
    if (opt->fallback) train_option_canonical(opt, opt->fallback, out, len, why, sizeof why);
}

void runner_run_key(const TrainOption *table, int n_options,
                    const char (*values)[EXP_VALUE_LEN], const char *data, char key[17]) {
    StrList pairs = {0};
    strlist_pushf(&pairs, "data=%s", data);
    for (int i = 0; i < n_options; i++) {
        const TrainOption *opt = &table[i];
        char name[64], value[EXP_VALUE_LEN], fallback[EXP_VALUE_LEN], why[128];
        if (!values[i][0] || !(opt->flags & OPT_CHANGES_RESULT)) continue;
        if (train_option_canonical(opt, values[i], value, sizeof value, why, sizeof why)) continue;
        default_text(opt, fallback, sizeof fallback);
        if (!strcmp(value, fallback)) continue;  // the default, written out
        train_option_key(opt, name, sizeof name);
        strlist_pushf(&pairs, "%s=%s", name, value);
    }
    qsort(pairs.items, pairs.count, sizeof *pairs.items, cmp_str);
    strlist_key(&pairs, key);
    strlist_free(&pairs);
}

// ---- arguments ----------------------------------------------------------------------

void runner_run_dir(const RunnerOptions *o, const Experiment *e, const RunSpec *run, char *out,
                    size_t len) {
    snprintf(out, len, "%s/runs/%s/%s/%s", o->results, e->name, scale_name(e->scale), run->slug);
}

void runner_results_dir(const RunnerOptions *o, const Experiment *e, char *out, size_t len) {
    snprintf(out, len, "%s/%s-%s", o->results, e->name, scale_name(e->scale));
}

// metrics.csv gets about 200 rows per run whatever its length: enough for the
// training-loss curves, few enough for a 150K-step run.
static long log_every(const RunSpec *r) {
    long steps = run_number(r, "steps");
    return steps / 200 > 0 ? steps / 200 : 1;
}

// "--name value" for every option the definition sets ("--name" for a true flag).
static void push_options(StrList *args, const RunSpec *run) {
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const TrainOption *opt = &TRAIN_OPTIONS[i];
        const char *v = run->values[i];
        int on = 0;
        if (!v[0] || (opt->type == OPT_FLAG && (number_parse_bool(v, &on) || !on))) continue;
        strlist_pushf(args, "--%s", opt->name);
        if (opt->type != OPT_FLAG) strlist_push(args, v);
    }
}

int runner_train_args(const Experiment *e, const RunSpec *run, const RunnerOptions *o,
                      StrList *args, char key[17], char *err, size_t errlen) {
    char train[PATH_MAX], val[PATH_MAX], dir[PATH_MAX];
    if (experiment_data_paths(o->root, run->data, train, val, sizeof train, err, errlen)) return -1;
    runner_run_dir(o, e, run, dir, sizeof dir);
    strlist_push(args, "train");
    push_options(args, run);
    strlist_push(args, "--out");
    strlist_push(args, dir);
    if (train[0]) {
        strlist_push(args, "--train-data");
        strlist_push(args, train);
        strlist_push(args, "--val-data");
        strlist_push(args, val);
    }
    if (o->device) {
        strlist_push(args, "--device");
        strlist_push(args, o->device);
    }
    strlist_push(args, "--log-every");
    strlist_pushf(args, "%ld", log_every(run));
    // Tags are recorded in config.json, not part of the configuration.
    strlist_pushf(args, "--tag");
    strlist_pushf(args, "experiment=%s", e->name);
    strlist_pushf(args, "--tag");
    strlist_pushf(args, "scale=%s", scale_name(e->scale));
    strlist_pushf(args, "--tag");
    strlist_pushf(args, "run=%s", run->name);
    runner_run_key(TRAIN_OPTIONS, N_TRAIN_OPTIONS, run->values, run->data, key);
    return 0;
}

// ---- train.args ------------------------------------------------------------------------

void args_file_read_key(const char *dir, const char *file, char key[17], int *scheme) {
    char path[PATH_MAX], line[64] = "";
    snprintf(path, sizeof path, "%s/%s", dir, file);
    key[0] = '\0';
    *scheme = 1;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(line, sizeof line, f) && !strncmp(line, "key ", 4)) snprintf(key, 17, "%.16s", line + 4);
    if (fgets(line, sizeof line, f) && !strncmp(line, "scheme ", 7)) *scheme = atoi(line + 7);
    fclose(f);
}

int args_file_write(const char *dir, const char *file, const char *key, const StrList *args,
                    char *err, size_t errlen) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "key %s\nscheme %d\n", key, RUN_KEY_SCHEME);
    for (int i = 0; i < args->count; i++) fprintf(f, "%s\n", args->items[i]);
    if (fclose(f) == 0) return 0;
    snprintf(err, errlen, "%s: write failed", path);
    return -1;
}

static const char *const STATE_NAMES[] = {"new", "resume", "finished", "diverged", "stale"};
const char *run_state_name(RunState s) { return STATE_NAMES[s]; }

RunState runner_run_state(const char *run_dir, const char *key) {
    if (access(run_dir, F_OK) != 0) return RUN_NEW;
    char stored[17];
    int scheme;
    long step;
    args_file_read_key(run_dir, RUNDIR_TRAIN_ARGS, stored, &scheme);
    if (strcmp(stored, key)) return RUN_STALE;
    switch (run_status_read(run_dir, &step)) {
    case RUN_STATUS_FINISHED: return RUN_FINISHED;
    case RUN_STATUS_DIVERGED: return RUN_DIVERGED;
    default: return RUN_RESUME;  // running (interrupted), failed, or never started
    }
}
