// The experiment runner: plan, skip/resume, fork/exec `suite train`, progress.
#include "suite/experiment_run.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "impls/model.h"
#include "kernels/common.h"
#include "suite/downstream.h"
#include "suite/experiment_plot.h"
#include "suite/paths.h"
#include "suite/results.h"
#include "suite/timefmt.h"

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

// FNV-1a over the arguments, each terminated by a NUL byte.
static void config_key(const StrList *args, char key[17]) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < args->count; i++)
        for (const char *p = args->items[i];; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
            if (!*p) break;
        }
    snprintf(key, 17, "%016llx", (unsigned long long)h);
}

// ---- planning ---------------------------------------------------------------------

void runner_run_dir(const RunnerOptions *o, const Experiment *e, const RunSpec *run, char *out,
                    size_t len) {
    snprintf(out, len, "%s/runs/%s/%s/%s", o->results, e->name, scale_name(e->scale), run->slug);
}

void runner_results_dir(const RunnerOptions *o, const Experiment *e, char *out, size_t len) {
    snprintf(out, len, "%s/%s-%s", o->results, e->name, scale_name(e->scale));
}

// metrics.csv gets about 200 rows per run whatever its length: enough for the
// training-loss curves, few enough for a 150K-step run.
static long log_every(const RunSpec *r) { return r->steps / 200 > 0 ? r->steps / 200 : 1; }

int runner_train_args(const Experiment *e, const RunSpec *run, const RunnerOptions *o,
                      StrList *args, char key[17], char *err, size_t errlen) {
    // canonical: what the key hashes (dataset by name, no machine paths)
    StrList canonical = {0};
    char train[PATH_MAX], val[PATH_MAX], dir[PATH_MAX];
    if (experiment_data_paths(o->root, run->data, train, val, sizeof train, err, errlen)) return -1;
    runner_run_dir(o, e, run, dir, sizeof dir);
    strlist_push(args, "train");
    strlist_push(args, "--out");
    strlist_push(args, dir);
    if (train[0]) {
        strlist_push(args, "--train-data");
        strlist_push(args, train);
        strlist_push(args, "--val-data");
        strlist_push(args, val);
    }
    strlist_pushf(&canonical, "data=%s", run->data);
#define BOTH(...)                               \
    do {                                        \
        strlist_pushf(args, __VA_ARGS__);       \
        strlist_pushf(&canonical, __VA_ARGS__); \
    } while (0)
    BOTH("--model");
    BOTH("%s", run->model);
    BOTH("--steps");
    BOTH("%ld", run->steps);
    BOTH("--batch");
    BOTH("%d", run->batch);
    if (run->seq_len) {
        BOTH("--seq-len");
        BOTH("%d", run->seq_len);
    }
    if (run->lr > 0) {
        BOTH("--lr");
        BOTH("%g", run->lr);
    }
    if (run->eval_every) {
        BOTH("--eval-every");
        BOTH("%d", run->eval_every);
    }
    if (run->eval_batches) {
        BOTH("--eval-batches");
        BOTH("%d", run->eval_batches);
    }
    if (run->seed) {
        BOTH("--seed");
        BOTH("%ld", run->seed);
    }
    if (run->precision[0]) {
        BOTH("--precision");
        BOTH("%s", run->precision);
    }
    if (o->device) {
        BOTH("--device");
        BOTH("%s", o->device);
    }
    BOTH("--log-every");
    BOTH("%ld", log_every(run));
    for (int i = 0; i < run->n_flags; i++) BOTH("%s", run->flags[i]);
#undef BOTH
    // Tags are recorded in config.json, not part of the configuration.
    strlist_pushf(args, "--tag");
    strlist_pushf(args, "experiment=%s", e->name);
    strlist_pushf(args, "--tag");
    strlist_pushf(args, "scale=%s", scale_name(e->scale));
    strlist_pushf(args, "--tag");
    strlist_pushf(args, "run=%s", run->name);
    config_key(&canonical, key);
    strlist_free(&canonical);
    return 0;
}

// The key stored in DIR/FILE ("key <hex>" on the first line), or "" if none.
static void read_key(const char *dir, const char *file, char key[17]) {
    char path[PATH_MAX], line[64] = "";
    snprintf(path, sizeof path, "%s/%s", dir, file);
    key[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(line, sizeof line, f) && !strncmp(line, "key ", 4))
        snprintf(key, 17, "%.16s", line + 4);
    fclose(f);
}

static int write_args(const char *dir, const char *file, const char *key, const StrList *args,
                      char *err, size_t errlen) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "key %s\n", key);
    for (int i = 0; i < args->count; i++) fprintf(f, "%s\n", args->items[i]);
    if (fclose(f) == 0) return 0;
    snprintf(err, errlen, "%s: write failed", path);
    return -1;
}

static const char *const STATE_NAMES[] = {"new", "resume", "finished", "diverged", "stale"};
const char *run_state_name(RunState s) { return STATE_NAMES[s]; }

static int exists(const char *path) { return access(path, F_OK) == 0; }

RunState runner_run_state(const char *run_dir, const char *key) {
    if (!exists(run_dir)) return RUN_NEW;
    char stored[17], status[32];
    long step;
    read_key(run_dir, "train.args", stored);
    if (strcmp(stored, key)) return RUN_STALE;
    results_read_status(run_dir, status, sizeof status, &step);
    if (!strcmp(status, "finished")) return RUN_FINISHED;
    if (!strcmp(status, "diverged")) return RUN_DIVERGED;
    return RUN_RESUME;  // running (interrupted), failed, or never started
}

// Keep an old run's files instead of deleting results: DIR.old-<its key>.
static int move_aside(const char *dir, char *err, size_t errlen) {
    char stored[17], dest[PATH_MAX];
    read_key(dir, "train.args", stored);
    snprintf(dest, sizeof dest, "%s.old-%s", dir, stored[0] ? stored : "unkeyed");
    if (exists(dest)) {
        snprintf(err, errlen,
                 "%s holds a run with another configuration and %s exists too; "
                 "remove one of them",
                 dir, dest);
        return -1;
    }
    if (rename(dir, dest)) {
        snprintf(err, errlen, "cannot move %s aside: %s", dir, strerror(errno));
        return -1;
    }
    printf("  configuration changed: the old run is kept in %s\n", dest);
    return 0;
}

// Experiments share runs (fig-params' Transformer-Medium is table-downstream's):
// a run finished elsewhere with the same key is reused instead of retrained.
// Returns 0 and its directory in out, or -1.
static int find_twin(const RunnerOptions *o, const Experiment *e, const char *key,
                     const char *own_dir, char *out, size_t len) {
    char pattern[PATH_MAX];
    snprintf(pattern, sizeof pattern, "%s/runs/*/%s/*/train.args", o->results,
             scale_name(e->scale));
    glob_t g;
    int found = -1;
    if (glob(pattern, 0, NULL, &g) != 0) return -1;
    for (size_t i = 0; i < g.gl_pathc && found < 0; i++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(g.gl_pathv[i], '/') - g.gl_pathv[i]),
                 g.gl_pathv[i]);
        if (!strcmp(dir, own_dir) || runner_run_state(dir, key) != RUN_FINISHED) continue;
        snprintf(out, len, "%s", dir);
        found = 0;
    }
    globfree(&g);
    return found;
}

// Hard-link the twin's training files (not its args or downstream scores) into
// dir: no copy of the checkpoint, and the twin stays untouched.
static int adopt_twin(const char *twin, const char *dir, char *err, size_t errlen) {
    if (make_dirs(dir, err, errlen)) return -1;
    DIR *d = opendir(twin);
    if (!d) {
        snprintf(err, errlen, "%s: cannot read", twin);
        return -1;
    }
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, "train.args") ||
            !strncmp(de->d_name, "downstream", 10))
            continue;
        char from[PATH_MAX], to[PATH_MAX];
        snprintf(from, sizeof from, "%s/%s", twin, de->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, de->d_name);
        if (link(from, to) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot link %s to %s: %s", from, to, strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    if (rc == 0) return 0;
    // Leave nothing half-linked: a trainer writing into a linked file would
    // change the twin's.
    if ((d = opendir(dir))) {
        for (struct dirent *de; (de = readdir(d));) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            if (de->d_name[0] != '.') unlink(path);
        }
        closedir(d);
    }
    return -1;
}

// ---- running a child ----------------------------------------------------------------------

// Last data row of DIR/metrics.csv: step and loss (the trainer's live progress).
static int last_metrics(const char *dir, long *step, double *loss) {
    char path[PATH_MAX], buf[4096];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    long from = size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0;
    fseek(f, from, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    if (sscanf(line, "%ld,%lf", step, loss) != 2) return -1;
    return 0;
}

typedef struct {
    double done_cost, done_seconds;  // runs trained by this invocation
    double remaining_cost;           // runs (and parts of runs) still to train
    double start;
} Progress;

static void fmt_eta(const Progress *p, double running_cost_left, char *buf, size_t len) {
    if (p->done_cost <= 0) {
        snprintf(buf, len, "ETA after the first run");
        return;
    }
    char d[32];
    format_duration(d, sizeof d,
                 (p->remaining_cost + running_cost_left) * p->done_seconds / p->done_cost);
    snprintf(buf, len, "ETA %s", d);
}

// Run `suite ARGS` with stdout/stderr to log_path; while a training child runs
// (total_steps > 0), show its step and loss (one updating line on a terminal, a
// line per quarter otherwise).
// Returns the child's exit code, or 128+signal.
static int run_child(const RunnerOptions *o, const StrList *args, const char *log_path,
                     const char *run_dir, long total_steps, double cost, const Progress *p) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork failed: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        char **argv = mallocCheck((args->count + 2) * sizeof(char *));
        argv[0] = "suite";
        memcpy(argv + 1, args->items, (args->count + 1) * sizeof(char *));
        execv(o->exe, argv);
        fprintf(stderr, "cannot run %s: %s\n", o->exe, strerror(errno));
        _exit(127);
    }
    int tty = isatty(1), quarter_shown = 0, status;
    double started = monotonic_seconds();
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) die("waitpid: %s", strerror(errno));
        struct timespec nap = {0, 500 * 1000 * 1000};
        nanosleep(&nap, NULL);
        long step;
        double loss;
        if (total_steps <= 0 || last_metrics(run_dir, &step, &loss)) continue;
        double frac = (double)step / total_steps;
        if (!tty && (int)(frac * 4) <= quarter_shown) continue;
        quarter_shown = (int)(frac * 4);
        char eta[48], el[32];
        fmt_eta(p, cost * (1 - frac), eta, sizeof eta);
        format_duration(el, sizeof el, monotonic_seconds() - started);
        printf(tty ? "\r    step %ld/%ld  loss %.4f  %s  (%s)   "
                   : "    step %ld/%ld  loss %.4f  %s  (%s)\n",
               step, total_steps, loss, el, eta);
        fflush(stdout);
    }
    if (tty) printf("\r%*s\r", 78, "");
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static void print_log_tail(const char *log_path, int lines) {
    FILE *f = fopen(log_path, "r");
    if (!f) return;
    char *ring[32] = {0};
    char buf[1024];
    int n = 0;
    if (lines > 32) lines = 32;
    while (fgets(buf, sizeof buf, f)) {
        free(ring[n % lines]);
        ring[n % lines] = strdup(buf);
        n++;
    }
    fclose(f);
    int first = n > lines ? n - lines : 0;
    for (int i = first; i < n; i++) fprintf(stderr, "    | %s", ring[i % lines]);
    for (int i = 0; i < lines; i++) free(ring[i]);
}

// ---- the experiment ---------------------------------------------------------------------

typedef struct {
    StrList args;
    char key[17];
    char dir[PATH_MAX];
    RunState state;
    double cost;  // FLOPs of the whole run, for the ETA
} Planned;

static double run_cost(const RunSpec *r) {
    ModelConfig cfg;
    char err[256];
    if (model_config_by_name(r->model, &cfg, err, sizeof err)) return 0;
    int T = r->seq_len ? r->seq_len : cfg.max_seq_len;
    return model_flops_per_token(&cfg, T) * (double)r->steps * r->batch * T;
}

// The downstream scoring of a finished run, skipped when downstream.csv is there
// from the same arguments. Returns the child's exit code (0 when skipped).
static int score_downstream(const Experiment *e, const RunnerOptions *o, const Planned *pl,
                            const Progress *p) {
    StrList args = {0};
    char key[17], stored[17], path[PATH_MAX], err[512];
    strlist_push(&args, "downstream");
    strlist_push(&args, "--ckpt");
    strlist_pushf(&args, "%s/ckpt.safetensors", pl->dir);
    strlist_push(&args, "--limit");
    strlist_pushf(&args, "%d", e->downstream_limit);
    for (int i = 0; i < e->n_tasks; i++) {
        strlist_push(&args, "--task");
        strlist_push(&args, e->tasks[i]);
    }
    if (o->device) {
        strlist_push(&args, "--device");
        strlist_push(&args, o->device);
    }
    // Which task files exist is part of the key: adding hellaswag_val.jsonl later
    // re-scores the run instead of keeping its "not run".
    StrList keyed = {0};
    char data_dir[PATH_MAX], task_path[PATH_MAX];
    mc_default_data_dir(data_dir, sizeof data_dir);
    for (int i = 0; i < args.count; i++) strlist_push(&keyed, args.items[i]);
    for (int i = 0; i < e->n_tasks; i++)
        strlist_pushf(
            &keyed, "%s=%s", e->tasks[i],
            mc_task_path(e->tasks[i], data_dir, task_path, sizeof task_path, err, sizeof err)
                ? "absent"
                : "present");
    config_key(&keyed, key);
    strlist_free(&keyed);
    strlist_push(&args, "--out");
    strlist_pushf(&args, "%s/downstream.csv", pl->dir);
    read_key(pl->dir, "downstream.args", stored);
    snprintf(path, sizeof path, "%s/downstream.csv", pl->dir);
    int rc = 0;
    if (!strcmp(stored, key) && exists(path)) {
        printf("    downstream: scored earlier, skipped\n");
    } else if (write_args(pl->dir, "downstream.args", key, &args, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        rc = 1;
    } else {
        remove(path);
        if (e->downstream_limit)
            printf("    downstream: %d task(s), first %d examples each\n", e->n_tasks,
                   e->downstream_limit);
        else printf("    downstream: %d task(s), every example\n", e->n_tasks);
        snprintf(path, sizeof path, "%s/downstream.log", pl->dir);
        rc = run_child(o, &args, path, pl->dir, 0, 0, p);
        if (rc) {
            fprintf(stderr, "    downstream scoring failed (exit %d); log %s:\n", rc, path);
            print_log_tail(path, 10);
        }
    }
    strlist_free(&args);
    return rc;
}

static void print_plan_line(int i, int n, const RunSpec *r) {
    printf("[run %d/%d] %s  (%s, %ld steps x %d", i + 1, n, r->name, r->model, r->steps, r->batch);
    if (r->seq_len) printf(" x %d", r->seq_len);
    printf(")\n");
}

// Train (or resume) one planned run. Returns 0 finished, 3 diverged, else the
// child's failure code (>= 128: interrupted).
static int train_one(const Experiment *e, const RunnerOptions *o, const RunSpec *r, Planned *pl,
                     Progress *prog) {
    char err[1024], status[32], log_path[PATH_MAX], eta[48], el[32];
    if ((pl->state == RUN_STALE && move_aside(pl->dir, err, sizeof err)) ||
        make_dirs(pl->dir, err, sizeof err) ||
        write_args(pl->dir, "train.args", pl->key, &pl->args, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        return 1;
    }
    long done = 0;
    if (pl->state == RUN_RESUME) {
        results_read_status(pl->dir, status, sizeof status, &done);
        strlist_push(&pl->args, "--resume");
        printf("    resuming from step %ld\n", done);
    }
    double left = r->steps > 0 ? pl->cost * (1 - (double)done / r->steps) : pl->cost;
    prog->remaining_cost -= pl->cost;
    fmt_eta(prog, left, eta, sizeof eta);
    format_duration(el, sizeof el, monotonic_seconds() - prog->start);
    printf("    elapsed %s, %s; log %s/train.log\n", el, eta, pl->dir);
    snprintf(log_path, sizeof log_path, "%s/train.log", pl->dir);
    double t0 = monotonic_seconds();
    int code = run_child(o, &pl->args, log_path, pl->dir, r->steps, left, prog);
    prog->done_seconds += monotonic_seconds() - t0;
    prog->done_cost += left;
    results_read_status(pl->dir, status, sizeof status, &done);
    if (code == 0) {
        printf("    finished in %.1fs\n", monotonic_seconds() - t0);
    } else if (code == 3) {
        printf("    diverged at step %ld: recorded, going on\n", done);
    } else if (code >= 128) {
        fprintf(stderr, "suite run: interrupted; `suite run %s --scale %s` resumes\n", e->name,
                scale_name(e->scale));
    } else {
        fprintf(stderr, "    FAILED (exit %d); last lines of %s:\n", code, log_path);
        print_log_tail(log_path, 15);
    }
    return code;
}

// Arguments, key, directory, state and cost of every run before anything runs,
// so a definition that cannot run at all stops here. 0, or -1 (printed).
static int plan_runs(const Experiment *e, const RunnerOptions *o, Planned *plan, Progress *prog) {
    char err[1024];
    for (int i = 0; i < e->n_runs; i++) {
        Planned *pl = &plan[i];
        if (runner_train_args(e, &e->runs[i], o, &pl->args, pl->key, err, sizeof err)) {
            fprintf(stderr, "suite run: %s: %s\n", e->runs[i].name, err);
            return -1;
        }
        runner_run_dir(o, e, &e->runs[i], pl->dir, sizeof pl->dir);
        pl->state = runner_run_state(pl->dir, pl->key);
        pl->cost = run_cost(&e->runs[i]);
        if (pl->state != RUN_FINISHED && pl->state != RUN_DIVERGED) prog->remaining_cost += pl->cost;
    }
    return 0;
}

int runner_run_experiment(const Experiment *e, const RunnerOptions *o) {
    char err[1024];
    Planned *plan = callocCheck(e->n_runs, sizeof(Planned));
    Progress prog = {.start = monotonic_seconds()};
    int stop = 0, failed = 0;
    if (plan_runs(e, o, plan, &prog)) stop = 2;
    else
        printf("== %s at %s scale: %d runs -> %s/runs/%s/%s/\n", e->name, scale_name(e->scale),
               e->n_runs, o->results, e->name, scale_name(e->scale));

    for (int i = 0; i < e->n_runs && !stop; i++) {
        Planned *pl = &plan[i];
        print_plan_line(i, e->n_runs, &e->runs[i]);
        char twin[PATH_MAX];
        int reuse = pl->state == RUN_NEW && !find_twin(o, e, pl->key, pl->dir, twin, sizeof twin);
        if (reuse && (adopt_twin(twin, pl->dir, err, sizeof err) ||
                      write_args(pl->dir, "train.args", pl->key, &pl->args, err, sizeof err))) {
            // Never train into a folder that may hold links to the twin's files.
            fprintf(stderr, "suite run: cannot reuse %s: %s\n", twin, err);
            failed = 1;
            continue;
        }
        if (pl->state == RUN_FINISHED || pl->state == RUN_DIVERGED) {
            printf("    %s earlier with this configuration, skipped\n", run_state_name(pl->state));
        } else if (reuse) {
            printf("    same configuration finished in %s: reused, not retrained\n", twin);
            prog.remaining_cost -= pl->cost;
        } else {
            int code = train_one(e, o, &e->runs[i], pl, &prog);
            if (code >= 128) stop = 130;
            else if (code == 2) stop = 2;  // a bad argument: every other run would fail too
            else if (code != 0 && code != 3) failed = 1;
            if (code != 0) continue;
        }
        char status[32];
        long step;
        results_read_status(pl->dir, status, sizeof status, &step);
        if (e->n_tasks && !strcmp(status, "finished") && score_downstream(e, o, pl, &prog))
            failed = 1;
    }
    if (stop != 2 && runner_collect(e, o, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        failed = 1;
    }
    for (int i = 0; i < e->n_runs; i++) strlist_free(&plan[i].args);
    free(plan);
    if (stop == 2) return 2;
    char el[32];
    format_duration(el, sizeof el, monotonic_seconds() - prog.start);
    printf("== %s at %s scale: done in %s\n", e->name, scale_name(e->scale), el);
    return stop ? stop : failed;
}

int runner_collect(const Experiment *e, const RunnerOptions *o, char *err, size_t errlen) {
    ResultSet rs = {0};
    char dir[PATH_MAX];
    for (int i = 0; i < e->n_runs; i++) {
        runner_run_dir(o, e, &e->runs[i], dir, sizeof dir);
        if (results_collect_run(&rs, dir, e->runs[i].name, e->runs[i].model, scale_name(e->scale),
                                err, errlen)) {
            results_free(&rs);
            return -1;
        }
    }
    runner_results_dir(o, e, dir, sizeof dir);
    int rc = results_save(dir, &rs, err, errlen);
    if (!rc) {
        printf("results: %s/summary.csv\n", dir);
        char warn[512];
        if (experiment_plot(e, &rs, o->root, dir, warn, sizeof warn))
            fprintf(stderr, "suite run: no figure: %s\n", warn);
        else printf("figure:  %s/%s.png (.svg)\n", dir, e->name);
    }
    results_free(&rs);
    return rc;
}
