// What the runner's files share: train.args / downstream.args, the child process,
// the progress line and the planned runs (trained in order or side by side).
// Not part of the lab's interface (experiment_run.h is).
#pragma once
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "suite/lab/experiment_run.h"

// The arguments' key: FNV-1a over each item and its NUL, as 16 hex digits.
void strlist_key(const StrList *l, char key[17]);

// DIR/FILE: "key <hex>", "scheme <n>", then one argument per line.
enum { RUN_KEY_SCHEME = 2 };  // 2: sorted result-changing options (the option table)
// The stored key ("" if none) and its scheme (1 for files without a scheme line).
void args_file_read_key(const char *dir, const char *file, char key[17], int *scheme);
int args_file_write(const char *dir, const char *file, const char *key, const StrList *args,
                    char *err, size_t errlen);

typedef struct {
    double done_cost, done_seconds;  // runs trained by this invocation
    double remaining_cost;           // runs (and parts of runs) still to train
    double start;
} Progress;

void progress_eta(const Progress *p, double running_cost_left, char *buf, size_t len);

// SIGINT/SIGTERM while the runner trains are remembered (runner_interrupted)
// instead of killing it; the runner stops its children and returns
// RUN_EXIT_INTERRUPTED. Release restores what was there before.
void runner_catch_signals(void);
void runner_release_signals(void);
int runner_interrupted(void);

// Start `suite ARGS` with stdout/stderr appended to log_path. threads > 0 sets
// OMP_NUM_THREADS and OPENBLAS_NUM_THREADS in the child unless the user set
// OMP_NUM_THREADS. Returns its pid.
pid_t spawn_child(const RunnerOptions *o, const StrList *args, const char *log_path,
                  int threads);
// A waitpid status as the runner's exit code: the child's, or RUN_EXIT_SIGNAL + signal.
int child_exit_code(int status);
// Step and loss of the last row of DIR/metrics.csv (the trainer's live progress). 0 or -1.
int last_metrics(const char *dir, long *step, double *loss);

// Run `suite ARGS` with stdout/stderr to log_path and wait for it; while a
// training child runs (total_steps > 0), show its step and loss from run_dir's
// metrics.csv. Returns the child's exit code, or RUN_EXIT_SIGNAL + signal.
int run_child(const RunnerOptions *o, const StrList *args, const char *log_path,
              const char *run_dir, long total_steps, double cost, const Progress *p);
void print_log_tail(const char *log_path, int lines);

// One run of one experiment, planned before anything runs.
typedef struct {
    const Experiment *e;
    int index;  // in e->runs
    StrList args;
    char key[17];
    char dir[PATH_MAX];
    RunState state;
    double cost;  // FLOPs of the whole run, for the ETA
    int counted;  // cost is in Progress.remaining_cost: the first unfinished run of its key
                  // (the others reuse it)
    double left;  // of cost, still to train when it starts (a resumed run: the rest)
    // while it trains in parallel (runner_jobs.c)
    pid_t pid;
    double started, frac;
    int quarters_shown, ended;
} Planned;

// What runner_prepare decided.
typedef enum { PREP_SKIPPED, PREP_REUSED, PREP_TRAIN, PREP_FAILED } Prepared;

// Skip a finished run, reuse a finished twin (hard links), or get its
// directory ready to train (move a stale run aside, write train.args, --resume).
// Prints what it decided, indented; the progress loses the cost not to train.
Prepared runner_prepare(const RunnerOptions *o, Planned *pl, Progress *prog);
// After a training child ended with code: say how (prefix before each line),
// then score downstream where the definition asks. Returns 1 when the run
// failed (or its scoring did), else 0.
int runner_finish(const RunnerOptions *o, const Planned *pl, int code, double seconds,
                  const char *prefix, Progress *prog);
// The post-training steps of a run that is finished (trained now or earlier): its
// loss on the C4 validation sample when trained on other data, and downstream
// scoring where the definition asks. 1 on failure.
int runner_score_if_finished(const RunnerOptions *o, const Planned *pl, const Progress *prog);

// Train plan[0..n) with at most jobs children at once, in plan order; runs
// with the key of an earlier run still training wait for it and then reuse it.
// *failed is set when a run failed. Returns 0, RUN_EXIT_INTERRUPTED or RUN_EXIT_USAGE.
int runner_train_parallel(const RunnerOptions *o, Planned *plan, int n, int jobs,
                          Progress *prog, int *failed);
