// `suite run --jobs N`: up to N `suite train` children at once, started in plan
// order, with one progress line per event. On a 2-core machine two
// single-threaded runs side by side train ~2.5x the tokens of one run on two
// threads (the cpu scale's matrices are too small to split well).
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernels/base/clock.h"
#include "kernels/common.h"
#include "suite/lab/runner_internal.h"
#include "suite/rundir.h"
#include "suite/timefmt.h"

// "[experiment/run seed S] ": what prefixes every line of a run.
static void run_label(const Planned *pl, char *out, size_t len) {
    const RunSpec *r = &pl->e->runs[pl->index];
    snprintf(out, len, "[%s/%s seed %s] ", pl->e->name, r->name, run_value(r, "seed"));
}

static long run_steps(const Planned *pl) { return run_number(&pl->e->runs[pl->index], "steps"); }

// An earlier run with the same key still training: this one waits for it and
// then reuses it (runner_prepare finds the twin) instead of training it twice.
static int twin_in_training(const Planned *plan, int i) {
    for (int k = 0; k < i; k++)
        if (plan[k].pid > 0 && !plan[k].ended && !strcmp(plan[k].key, plan[i].key)) return 1;
    return 0;
}

// Skip, reuse or start plan's run. Returns 1 when a child was started.
static int start_run(const RunnerOptions *o, Planned *pl, int threads, Progress *prog,
                     int *failed) {
    char name[256], log_path[PATH_MAX];
    run_label(pl, name, sizeof name);
    const RunSpec *r = &pl->e->runs[pl->index];
    printf("%s%s, %ld steps\n", name, run_value(r, "model"), run_steps(pl));
    Prepared prep = runner_prepare(o, pl, prog);
    if (prep == PREP_FAILED) *failed = 1;
    if (prep == PREP_SKIPPED || prep == PREP_REUSED)
        *failed |= runner_score_if_finished(o, pl, prog);
    if (prep != PREP_TRAIN) return 0;
    snprintf(log_path, sizeof log_path, "%s/" RUNDIR_TRAIN_LOG, pl->dir);
    printf("%sstarted (%d thread%s); log %s\n", name, threads, threads > 1 ? "s" : "", log_path);
    pl->started = monotonic_seconds();
    pl->pid = spawn_child(o, &pl->args, log_path, threads);
    return 1;
}

// A line at each quarter of a running run's steps.
static void show_quarter(Planned *pl) {
    long step, steps = run_steps(pl);
    double loss;
    if (steps <= 0 || last_metrics(pl->dir, &step, &loss)) return;
    pl->frac = (double)step / steps;
    int quarter = (int)(pl->frac * 4);
    if (quarter <= pl->quarters_shown || quarter >= 4) return;  // the end has its own line
    pl->quarters_shown = quarter;
    char name[256], el[32];
    run_label(pl, name, sizeof name);
    format_duration(el, sizeof el, monotonic_seconds() - pl->started);
    printf("%sstep %ld/%ld  loss %.4f  %s\n", name, step, steps, loss, el);
    fflush(stdout);
}

// "k of n runs done, elapsed, ETA": ETA = cost left x wall seconds per cost
// trained so far, which already counts the children running side by side.
static void show_overall(const Planned *plan, int n, int done, Progress *prog) {
    double running_left = 0;
    for (int i = 0; i < n; i++)
        if (plan[i].pid > 0 && !plan[i].ended) {
            double rest = plan[i].cost * (1 - plan[i].frac);
            running_left += rest < plan[i].left ? rest : plan[i].left;
        }
    prog->done_seconds = monotonic_seconds() - prog->start;
    char eta[48], el[32];
    progress_eta(prog, running_left, eta, sizeof eta);
    format_duration(el, sizeof el, prog->done_seconds);
    printf("-- %d of %d runs done, elapsed %s, %s\n", done, n, el, eta);
    fflush(stdout);
}

static void stop_children(const Planned *plan, int n) {
    for (int i = 0; i < n; i++)
        if (plan[i].pid > 0 && !plan[i].ended) kill(plan[i].pid, SIGTERM);
}

// Reap the children that ended. Returns how many; *halt and *rc say whether to
// start no more runs and why (a child killed by a signal: interrupted; a usage
// error: every other run would fail too).
static int reap_ended(const RunnerOptions *o, Planned *plan, int n, Progress *prog, int *failed,
                      int *rc) {
    int ended = 0;
    for (int i = 0; i < n; i++) {
        Planned *pl = &plan[i];
        int status;
        if (pl->pid <= 0 || pl->ended) continue;
        pid_t r = waitpid(pl->pid, &status, WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR)) continue;
        if (r < 0) die("waitpid %d: %s", (int)pl->pid, strerror(errno));
        pl->ended = 1;
        ended++;
        int code = child_exit_code(status);
        char name[256];
        run_label(pl, name, sizeof name);
        *failed |= runner_finish(o, pl, code, monotonic_seconds() - pl->started, name, prog);
        if (code >= RUN_EXIT_SIGNAL && *rc != RUN_EXIT_INTERRUPTED) {
            *rc = RUN_EXIT_INTERRUPTED;
            stop_children(plan, n);
        } else if (code == RUN_EXIT_USAGE && !*rc) {
            *rc = RUN_EXIT_USAGE;
        }
    }
    return ended;
}

int runner_train_parallel(const RunnerOptions *o, Planned *plan, int n, int jobs,
                          Progress *prog, int *failed) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cores / jobs > 1 ? (int)(cores / jobs) : 1;
    int next = 0, running = 0, done = 0, rc = 0;
    for (;;) {
        if (runner_interrupted() && rc != RUN_EXIT_INTERRUPTED) {
            rc = RUN_EXIT_INTERRUPTED;
            stop_children(plan, next);
        }
        while (!rc && running < jobs && next < n && !twin_in_training(plan, next)) {
            if (start_run(o, &plan[next], threads, prog, failed)) running++;
            else done++;
            next++;
        }
        if (!running) break;  // nothing waits for a child: all started, or stopped
        struct timespec nap = {0, 200 * 1000 * 1000};
        nanosleep(&nap, NULL);
        int ended = reap_ended(o, plan, next, prog, failed, &rc);
        running -= ended;
        done += ended;
        if (ended && rc != RUN_EXIT_INTERRUPTED) show_overall(plan, n, done, prog);
        for (int i = 0; i < next; i++)
            if (plan[i].pid > 0 && !plan[i].ended) show_quarter(&plan[i]);
    }
    return rc;
}
