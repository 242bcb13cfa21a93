// What the runner's files share: train.args / downstream.args, the child process
// and the progress line. Not part of the lab's interface (experiment_run.h is).
#pragma once
#include <stddef.h>

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

// Run `suite ARGS` with stdout/stderr to log_path; while a training child runs
// (total_steps > 0), show its step and loss from run_dir's metrics.csv.
// Returns the child's exit code, or RUN_EXIT_SIGNAL + signal.
int run_child(const RunnerOptions *o, const StrList *args, const char *log_path,
              const char *run_dir, long total_steps, double cost, const Progress *p);
void print_log_tail(const char *log_path, int lines);
