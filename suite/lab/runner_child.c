// Running `suite train` / `suite downstream` as a child: its exit code, its live
// progress (read from metrics.csv by column name) and the ETA of the experiment.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernels/base/clock.h"
#include "kernels/common.h"
#include "suite/lab/runner_internal.h"
#include "suite/rundir.h"
#include "suite/timefmt.h"

// Column of name in a CSV header line, or -1.
static int column_of(char *header, const char *name) {
    int col = 0;
    for (char *f = strtok(header, ",\r\n"); f; f = strtok(NULL, ",\r\n"), col++)
        if (!strcmp(f, name)) return col;
    return -1;
}

// Field col of a numeric CSV line (no quoting in the trainer's files), or NULL.
static const char *field_at(char *line, int col) {
    char *f = strtok(line, ",\r\n");
    for (int i = 0; f && i < col; i++) f = strtok(NULL, ",\r\n");
    return f;
}

// Last data row of DIR/metrics.csv: step and loss (the trainer's live progress).
int last_metrics(const char *dir, long *step, double *loss) {
    char path[PATH_MAX], header[512], buf[4096];
    snprintf(path, sizeof path, "%s/" RUNDIR_METRICS, dir);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int ok = fgets(header, sizeof header, f) != NULL;
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
    if (!ok || !strncmp(line, header, strlen(line))) return -1;  // no data row yet
    char header_copy[512], line_copy[4096];
    snprintf(header_copy, sizeof header_copy, "%s", header);
    int step_col = column_of(header_copy, METRICS_COLS[METRICS_STEP]);
    snprintf(header_copy, sizeof header_copy, "%s", header);
    int loss_col = column_of(header_copy, METRICS_COLS[METRICS_LOSS]);
    snprintf(line_copy, sizeof line_copy, "%s", line);
    const char *s = step_col >= 0 ? field_at(line_copy, step_col) : NULL;
    if (!s) return -1;
    *step = strtol(s, NULL, 10);
    snprintf(line_copy, sizeof line_copy, "%s", line);
    const char *l = loss_col >= 0 ? field_at(line_copy, loss_col) : NULL;
    if (!l) return -1;
    *loss = strtod(l, NULL);
    return 0;
}

void progress_eta(const Progress *p, double running_cost_left, char *buf, size_t len) {
    if (p->done_cost <= 0) {
        snprintf(buf, len, "ETA after the first run");
        return;
    }
    char d[32];
    format_duration(d, sizeof d,
                 (p->remaining_cost + running_cost_left) * p->done_seconds / p->done_cost);
    snprintf(buf, len, "ETA %s", d);
}

// SIGINT/SIGTERM while `suite run` trains: remembered, so the runner stops its
// children (they keep their last checkpoint) and returns RUN_EXIT_INTERRUPTED.
static volatile sig_atomic_t stop_signal;
static struct sigaction saved_int, saved_term;

static void remember_signal(int sig) { stop_signal = sig; }

void runner_catch_signals(void) {
    struct sigaction sa = {.sa_handler = remember_signal};  // no SA_RESTART: wake the naps
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    sigaction(SIGINT, NULL, &saved_int);
    sigaction(SIGTERM, NULL, &saved_term);
    // A runner started with SIGINT ignored (nohup, `&`) keeps ignoring it.
    if (saved_int.sa_handler != SIG_IGN) sigaction(SIGINT, &sa, NULL);
    if (saved_term.sa_handler != SIG_IGN) sigaction(SIGTERM, &sa, NULL);
}

void runner_release_signals(void) {
    sigaction(SIGINT, &saved_int, NULL);
    sigaction(SIGTERM, &saved_term, NULL);
}

int runner_interrupted(void) { return stop_signal != 0; }

pid_t spawn_child(const RunnerOptions *o, const StrList *args, const char *log_path,
                  int threads) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork failed: %s", strerror(errno));
    if (pid > 0) return pid;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    if (threads > 0 && !getenv("OMP_NUM_THREADS")) {  // the user's choice wins
        char n[16];
        snprintf(n, sizeof n, "%d", threads);
        setenv("OMP_NUM_THREADS", n, 1);
        setenv("OPENBLAS_NUM_THREADS", n, 1);
    }
    char **argv = mallocCheck((args->count + 2) * sizeof(char *));
    argv[0] = "suite";
    memcpy(argv + 1, args->items, (args->count + 1) * sizeof(char *));
    execv(o->exe, argv);
    fprintf(stderr, "cannot run %s: %s\n", o->exe, strerror(errno));
    _exit(RUN_EXIT_NO_EXEC);
}

int child_exit_code(int status) {
    if (WIFSIGNALED(status)) return RUN_EXIT_SIGNAL + WTERMSIG(status);
    return WEXITSTATUS(status);
}

// Run `suite ARGS` with stdout/stderr to log_path; while a training child runs
// (total_steps > 0), show its step and loss (one updating line on a terminal, a
// line per quarter otherwise). SIGINT/SIGTERM to the runner stops the child.
// Returns the child's exit code, or 128+signal.
int run_child(const RunnerOptions *o, const StrList *args, const char *log_path,
              const char *run_dir, long total_steps, double cost, const Progress *p) {
    pid_t pid = spawn_child(o, args, log_path, 0);
    int tty = isatty(1), quarter_shown = 0, status, stopping = 0;
    double started = monotonic_seconds();
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) die("waitpid: %s", strerror(errno));
        if (runner_interrupted() && !stopping) stopping = !kill(pid, SIGTERM);
        struct timespec nap = {0, 500 * 1000 * 1000};
        nanosleep(&nap, NULL);
        long step;
        double loss;
        if (total_steps <= 0 || last_metrics(run_dir, &step, &loss)) continue;
        double frac = (double)step / total_steps;
        if (!tty && (int)(frac * 4) <= quarter_shown) continue;
        quarter_shown = (int)(frac * 4);
        char eta[48], el[32];
        progress_eta(p, cost * (1 - frac), eta, sizeof eta);
        format_duration(el, sizeof el, monotonic_seconds() - started);
        printf(tty ? "\r    step %ld/%ld  loss %.4f  %s  (%s)   "
                   : "    step %ld/%ld  loss %.4f  %s  (%s)\n",
               step, total_steps, loss, el, eta);
        fflush(stdout);
    }
    if (tty) printf("\r%*s\r", 78, "");
    return child_exit_code(status);
}

void print_log_tail(const char *log_path, int lines) {
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

