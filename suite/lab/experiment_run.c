// The experiment runner: plan, skip/resume, fork/exec `suite train`, progress.
#include "suite/lab/experiment_run.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/base/clock.h"
#include "kernels/common.h"
#include "suite/lab/downstream.h"
#include "suite/lab/experiment_plot.h"
#include "suite/lab/results.h"
#include "suite/lab/runner_internal.h"
#include "suite/paths.h"
#include "suite/rundir.h"
#include "suite/timefmt.h"

static int exists(const char *path) { return access(path, F_OK) == 0; }

// Keep an old run's files instead of deleting results: DIR.old-<its key>.
static int move_aside(const char *dir, char *err, size_t errlen) {
    char stored[17], dest[PATH_MAX];
    int scheme;
    args_file_read_key(dir, RUNDIR_TRAIN_ARGS, stored, &scheme);
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
    if (scheme < RUN_KEY_SCHEME)
        printf("  %s/" RUNDIR_TRAIN_ARGS " predates run keys from the option table (scheme %d): "
               "the old run is kept in %s and retrained; delete it once the new one is done\n",
               dir, RUN_KEY_SCHEME, dest);
    else printf("  configuration changed: the old run is kept in %s\n", dest);
    return 0;
}

// Experiments share runs (fig-params' Transformer-Medium is table-downstream's):
// a run finished elsewhere with the same key is reused instead of retrained.
// Returns 0 and its directory in out, or -1.
static int find_twin(const RunnerOptions *o, const Experiment *e, const char *key,
                     const char *own_dir, char *out, size_t len) {
    // Seed replicates sit one level deeper (<slug>/seed-<s>) than runs from before them.
    char pattern[PATH_MAX];
    glob_t g;
    int found = -1;
    snprintf(pattern, sizeof pattern, "%s/runs/*/%s/*/seed-*/" RUNDIR_TRAIN_ARGS, o->results,
             scale_name(e->scale));
    int deep = glob(pattern, 0, NULL, &g);
    snprintf(pattern, sizeof pattern, "%s/runs/*/%s/*/" RUNDIR_TRAIN_ARGS, o->results,
             scale_name(e->scale));
    int flat = glob(pattern, deep == 0 ? GLOB_APPEND : 0, NULL, &g);
    if (deep != 0 && flat != 0) return -1;
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
// dir: no copy of the checkpoint, and the twin stays untouched. Its C4-sample
// eval is linked too: it depends only on the checkpoint and the B, T and eval
// batches the shared key fixes (a --device that differs re-keys it, and
// run_post_step unlinks before writing). Downstream scores depend on the
// experiment's tasks and limit, so each experiment scores its own.
static int adopt_twin(const char *twin, const char *dir, char *err, size_t errlen) {
    if (make_dirs(dir, err, errlen)) return -1;
    DIR *d = opendir(twin);
    if (!d) {
        snprintf(err, errlen, "%s: cannot read", twin);
        return -1;
    }
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        if (de->d_name[0] == '.' || !strcmp(de->d_name, RUNDIR_TRAIN_ARGS) ||
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

// ---- the experiment ---------------------------------------------------------------------

// A child run on a finished run's checkpoint: its arguments file, output and log.
typedef struct {
    const char *name, *args_file, *csv, *log;
} PostStep;

// Run `suite ARGS` (what: the line saying what it does) unless step->csv is there
// from the same key. The files may be hard links shared with a twin (adopt_twin):
// they are unlinked before being written, so the twin's stay as they were.
// Returns the child's exit code (0 when skipped).
static int run_post_step(const RunnerOptions *o, const Planned *pl, const Progress *p,
                         const PostStep *step, const char *key, const StrList *args,
                         const char *what) {
    char stored[17], csv[PATH_MAX], log[PATH_MAX], err[512];
    int scheme;
    args_file_read_key(pl->dir, step->args_file, stored, &scheme);
    snprintf(csv, sizeof csv, "%s/%s", pl->dir, step->csv);
    snprintf(log, sizeof log, "%s/%s", pl->dir, step->log);
    if (!strcmp(stored, key) && exists(csv)) {
        printf("    %s: done earlier, skipped\n", step->name);
        return 0;
    }
    char args_path[PATH_MAX];
    snprintf(args_path, sizeof args_path, "%s/%s", pl->dir, step->args_file);
    remove(args_path);
    remove(csv);
    remove(log);
    if (args_file_write(pl->dir, step->args_file, key, args, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        return RUN_EXIT_ERROR;
    }
    printf("    %s\n", what);
    int rc = run_child(o, args, log, pl->dir, 0, 0, p);
    if (rc) {
        fprintf(stderr, "    %s failed (exit %d); log %s:\n", step->name, rc, log);
        print_log_tail(log, 10);
    }
    return rc;
}

// The downstream scoring of a finished run, skipped when downstream.csv is there
// from the same arguments. Returns the child's exit code (0 when skipped).
static int score_downstream(const RunnerOptions *o, const Planned *pl, const Progress *p) {
    const Experiment *e = pl->e;
    StrList args = {0};
    char key[17], what[128], err[512];
    strlist_push(&args, "downstream");
    strlist_push(&args, "--ckpt");
    strlist_pushf(&args, "%s/" RUNDIR_CKPT, pl->dir);
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
    strlist_pushf(&keyed, "scoring=%d", MC_SCORING_RULES);  // new rules re-score old runs
    for (int i = 0; i < e->n_tasks; i++)
        strlist_pushf(
            &keyed, "%s=%s", e->tasks[i],
            mc_task_path(e->tasks[i], data_dir, task_path, sizeof task_path, err, sizeof err)
                ? "absent"
                : "present");
    strlist_key(&keyed, key);
    strlist_free(&keyed);
    strlist_push(&args, "--out");
    strlist_pushf(&args, "%s/" RUNDIR_DOWNSTREAM_CSV, pl->dir);
    if (e->downstream_limit)
        snprintf(what, sizeof what, "downstream: %d task(s), first %d examples each", e->n_tasks,
                 e->downstream_limit);
    else snprintf(what, sizeof what, "downstream: %d task(s), every example", e->n_tasks);
    const PostStep step = {"downstream", RUNDIR_DOWNSTREAM_ARGS, RUNDIR_DOWNSTREAM_CSV,
                           RUNDIR_DOWNSTREAM_LOG};
    int rc = run_post_step(o, pl, p, &step, key, &args, what);
    strlist_free(&args);
    return rc;
}

// The loss on the bundled C4 validation sample (`suite eval`'s default data) of a
// finished run trained on other data, at the run's B x T over its eval batches:
// what the stand-in's numbers mean for C4. Skipped like downstream. Returns the
// child's exit code (0 when skipped or not wanted).
static int eval_beside(const RunnerOptions *o, const Planned *pl, const Progress *p) {
    const RunSpec *r = &pl->e->runs[pl->index];
    if (!strcmp(r->data, "c4") || !strcmp(r->data, "c4-sample")) return 0;
    StrList args = {0};
    char key[17], what[128];
    const char *batches = run_value(r, "eval_batches");
    strlist_push(&args, "eval");
    strlist_push(&args, "--ckpt");
    strlist_pushf(&args, "%s/" RUNDIR_CKPT, pl->dir);
    if (run_value(r, "batch")) {
        strlist_push(&args, "--batch");
        strlist_push(&args, run_value(r, "batch"));
    }
    if (run_value(r, "seq_len")) {  // else the model's context, as the trainer used
        strlist_push(&args, "--seq-len");
        strlist_push(&args, run_value(r, "seq_len"));
    }
    strlist_push(&args, "--batches");
    strlist_push(&args, batches ? batches : "10");
    if (o->device) {
        strlist_push(&args, "--device");
        strlist_push(&args, o->device);
    }
    strlist_key(&args, key);  // before --out: the key holds no directory
    strlist_push(&args, "--out");
    strlist_pushf(&args, "%s/" RUNDIR_BESIDE_CSV, pl->dir);
    snprintf(what, sizeof what, "C4 validation sample: %s batches", batches ? batches : "10");
    const PostStep step = {"C4 sample eval", RUNDIR_BESIDE_ARGS, RUNDIR_BESIDE_CSV,
                           RUNDIR_BESIDE_LOG};
    int rc = run_post_step(o, pl, p, &step, key, &args, what);
    strlist_free(&args);
    return rc;
}

int runner_score_if_finished(const RunnerOptions *o, const Planned *pl, const Progress *prog) {
    long step;
    if (run_status_read(pl->dir, &step) != RUN_STATUS_FINISHED) return 0;
    int failed = eval_beside(o, pl, prog) != 0;
    if (pl->e->n_tasks) failed |= score_downstream(o, pl, prog) != 0;
    return failed;
}

static void print_plan_line(int i, int n, const RunSpec *r) {
    printf("[run %d/%d] %s seed %s  (%s, %s steps x %s", i + 1, n, r->name, run_value(r, "seed"),
           run_value(r, "model"), run_value(r, "steps"), run_value(r, "batch"));
    if (run_value(r, "seq_len")) printf(" x %s", run_value(r, "seq_len"));
    printf(")\n");
}

Prepared runner_prepare(const RunnerOptions *o, Planned *pl, Progress *prog) {
    char err[1024], twin[PATH_MAX];
    int reuse = pl->state == RUN_NEW && !find_twin(o, pl->e, pl->key, pl->dir, twin, sizeof twin);
    if (reuse && (adopt_twin(twin, pl->dir, err, sizeof err) ||
                  args_file_write(pl->dir, RUNDIR_TRAIN_ARGS, pl->key, &pl->args, err,
                                  sizeof err))) {
        // Never train into a folder that may hold links to the twin's files.
        fprintf(stderr, "suite run: cannot reuse %s: %s\n", twin, err);
        return PREP_FAILED;
    }
    if (pl->state == RUN_FINISHED || pl->state == RUN_DIVERGED) {
        printf("    %s earlier with this configuration, skipped\n", run_state_name(pl->state));
        return PREP_SKIPPED;
    }
    if (reuse) {
        printf("    same configuration finished in %s: reused, not retrained\n", twin);
        if (pl->counted) prog->remaining_cost -= pl->cost;
        return PREP_REUSED;
    }
    if ((pl->state == RUN_STALE && move_aside(pl->dir, err, sizeof err)) ||
        make_dirs(pl->dir, err, sizeof err) ||
        args_file_write(pl->dir, RUNDIR_TRAIN_ARGS, pl->key, &pl->args, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        return PREP_FAILED;
    }
    long done = 0, steps = run_number(&pl->e->runs[pl->index], "steps");
    if (pl->state == RUN_RESUME) {
        run_status_read(pl->dir, &done);
        strlist_push(&pl->args, "--resume");
        printf("    resuming from step %ld\n", done);
    }
    pl->left = steps > 0 ? pl->cost * (1 - (double)done / steps) : pl->cost;
    if (pl->counted) prog->remaining_cost -= pl->cost;
    return PREP_TRAIN;
}

int runner_finish(const RunnerOptions *o, const Planned *pl, int code, double seconds,
                  const char *prefix, Progress *prog) {
    char log_path[PATH_MAX];
    long done = 0;
    prog->done_cost += pl->left;
    run_status_read(pl->dir, &done);
    snprintf(log_path, sizeof log_path, "%s/" RUNDIR_TRAIN_LOG, pl->dir);
    if (code == RUN_EXIT_FINISHED) {
        printf("%sfinished in %.1fs\n", prefix, seconds);
        return runner_score_if_finished(o, pl, prog);
    }
    if (code == RUN_EXIT_DIVERGED) {
        printf("%sdiverged at step %ld after %.1fs: recorded, going on\n", prefix, done, seconds);
    } else if (code >= RUN_EXIT_SIGNAL) {
        fprintf(stderr, "%sinterrupted at step %ld; `suite run %s --scale %s` resumes\n", prefix,
                done, pl->e->name, scale_name(pl->e->scale));
    } else {
        fprintf(stderr, "%sFAILED (exit %d) after %.1fs; last lines of %s:\n", prefix, code,
                seconds, log_path);
        print_log_tail(log_path, 15);
        return 1;
    }
    return 0;
}

// Arguments, key, directory, state and cost of every run before anything runs,
// so a definition that cannot run at all stops here. 0, or -1 (printed).
static int plan_runs(const Experiment *e, const RunnerOptions *o, Planned *plan) {
    char err[1024];
    for (int i = 0; i < e->n_runs; i++) {
        Planned *pl = &plan[i];
        pl->e = e;
        pl->index = i;
        if (runner_train_args(e, &e->runs[i], o, &pl->args, pl->key, err, sizeof err)) {
            fprintf(stderr, "suite run: %s: %s: %s\n", e->name, e->runs[i].name, err);
            return -1;
        }
        runner_run_dir(o, e, &e->runs[i], pl->dir, sizeof pl->dir);
        pl->state = runner_run_state(pl->dir, pl->key);
        double tokens;
        run_cost(&e->runs[i], &tokens, &pl->cost);
    }
    return 0;
}

// The cost still to train: each unfinished key once, however many experiments
// name it (the others reuse its directory), so the ETA is not inflated.
static void count_remaining(Planned *plan, int n, Progress *prog) {
    for (int i = 0; i < n; i++) {
        Planned *pl = &plan[i];
        int first = 1;
        for (int k = 0; k < i && first; k++) first = strcmp(plan[k].key, pl->key) != 0;
        pl->counted = first && pl->state != RUN_FINISHED && pl->state != RUN_DIVERGED;
        if (pl->counted) prog->remaining_cost += pl->cost;
    }
}

// The runs of one experiment one after another, each child waited for with
// its live step line. Returns 0, RUN_EXIT_INTERRUPTED or RUN_EXIT_USAGE.
static int train_in_order(const RunnerOptions *o, Planned *plan, int n, Progress *prog,
                          int *failed) {
    for (int i = 0; i < n && !runner_interrupted(); i++) {
        Planned *pl = &plan[i];
        const RunSpec *r = &pl->e->runs[pl->index];
        print_plan_line(i, n, r);
        Prepared prep = runner_prepare(o, pl, prog);
        if (prep == PREP_FAILED) *failed = 1;
        if (prep == PREP_SKIPPED || prep == PREP_REUSED)
            *failed |= runner_score_if_finished(o, pl, prog);
        if (prep != PREP_TRAIN) continue;
        char log_path[PATH_MAX], eta[48], el[32];
        progress_eta(prog, pl->left, eta, sizeof eta);
        format_duration(el, sizeof el, monotonic_seconds() - prog->start);
        snprintf(log_path, sizeof log_path, "%s/" RUNDIR_TRAIN_LOG, pl->dir);
        printf("    elapsed %s, %s; log %s\n", el, eta, log_path);
        double t0 = monotonic_seconds();
        int code = run_child(o, &pl->args, log_path, pl->dir, run_number(r, "steps"), pl->left,
                             prog);
        prog->done_seconds += monotonic_seconds() - t0;
        *failed |= runner_finish(o, pl, code, monotonic_seconds() - t0, "    ", prog);
        if (code >= RUN_EXIT_SIGNAL) return RUN_EXIT_INTERRUPTED;
        if (code == RUN_EXIT_USAGE) return RUN_EXIT_USAGE;  // every other run would fail too
    }
    return runner_interrupted() ? RUN_EXIT_INTERRUPTED : 0;
}

static void print_header(const Experiment *e, const RunnerOptions *o) {
    printf("== %s at %s scale: %d runs -> %s/runs/%s/%s/\n", e->name, scale_name(e->scale),
           e->n_runs, o->results, e->name, scale_name(e->scale));
}

// Collect (unless the definitions could not run) and say how long it took.
static int finish_experiment(const Experiment *e, const RunnerOptions *o, double start) {
    char err[1024], el[32];
    int failed = 0;
    if (runner_collect(e, o, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        failed = 1;
    }
    format_duration(el, sizeof el, monotonic_seconds() - start);
    printf("== %s at %s scale: done in %s\n", e->name, scale_name(e->scale), el);
    return failed;
}

// Every experiment in turn, each collected before the next starts (jobs 1), or
// every run of every experiment on up to o->jobs children, then the collecting.
static int run_all(const Experiment *es, int n_exp, const RunnerOptions *o, Planned *plan,
                   int n, Progress *prog, int *failed) {
    int stop = 0;
    if (o->jobs <= 1) {
        for (int x = 0, off = 0; x < n_exp && !stop; off += es[x].n_runs, x++) {
            double start = monotonic_seconds();
            print_header(&es[x], o);
            stop = train_in_order(o, plan + off, es[x].n_runs, prog, failed);
            if (stop != RUN_EXIT_USAGE) *failed |= finish_experiment(&es[x], o, start);
        }
        return stop;
    }
    for (int x = 0; x < n_exp; x++) print_header(&es[x], o);
    stop = runner_train_parallel(o, plan, n, o->jobs, prog, failed);
    for (int x = 0; x < n_exp && stop != RUN_EXIT_USAGE; x++)
        *failed |= finish_experiment(&es[x], o, prog->start);
    return stop;
}

int runner_run_experiments(const Experiment *es, int n_exp, const RunnerOptions *o) {
    int n = 0, stop = 0, failed = 0;
    for (int x = 0; x < n_exp; x++) n += es[x].n_runs;
    Planned *plan = callocCheck(n > 0 ? n : 1, sizeof(Planned));
    Progress prog = {.start = monotonic_seconds()};
    for (int x = 0, off = 0; x < n_exp && !stop; off += es[x].n_runs, x++)
        if (plan_runs(&es[x], o, plan + off)) stop = RUN_EXIT_USAGE;
    if (!stop) {
        count_remaining(plan, n, &prog);
        runner_catch_signals();
        stop = run_all(es, n_exp, o, plan, n, &prog, &failed);
        runner_release_signals();
    }
    for (int i = 0; i < n; i++) strlist_free(&plan[i].args);
    free(plan);
    fflush(stdout);  // the last word, after the collected results
    if (stop == RUN_EXIT_INTERRUPTED)
        fprintf(stderr, "suite run: interrupted; run the same command again to resume\n");
    return stop ? stop : failed ? RUN_EXIT_ERROR : RUN_EXIT_FINISHED;
}

int runner_run_experiment(const Experiment *e, const RunnerOptions *o) {
    return runner_run_experiments(e, 1, o);
}

int runner_collect(const Experiment *e, const RunnerOptions *o, char *err, size_t errlen) {
    ResultSet rs = {0};
    char dir[PATH_MAX];
    for (int i = 0; i < e->n_runs; i++) {
        runner_run_dir(o, e, &e->runs[i], dir, sizeof dir);
        if (results_collect_run(&rs, dir, e->runs[i].name, run_number(&e->runs[i], "seed"),
                                run_value(&e->runs[i], "model"), scale_name(e->scale), err,
                                errlen)) {
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
