// `suite run`: run an experiment's training runs one after another by invoking
// the suite binary itself (`suite train ...`, then `suite downstream ...` where the
// definition asks for it), skipping runs already finished with the same
// configuration, resuming interrupted ones, then collecting the results and
// rendering the figure.
//
// Run directory: RESULTS/runs/<experiment>/<scale>/<run slug>/ with the trainer's
// files (suite/rundir.h) plus train.args (and downstream.args): "key <hash>",
// "scheme 2", then one argument per line. The run key hashes the sorted
// name=value pairs of the options that change results and differ from their
// defaults, plus the dataset's name (not the machine's data paths): an edited
// definition re-runs exactly the runs it changed, and a new option at its
// default leaves every finished run valid. A run directory from before the
// option table (no "scheme 2" line) is moved aside as stale and retrained.
#pragma once
#include <stddef.h>

#include "suite/lab/experiment.h"

typedef struct {
    char **items;
    int count;
} StrList;

void strlist_push(StrList *l, const char *s);
void strlist_pushf(StrList *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strlist_free(StrList *l);

typedef struct {
    const char *root;     // checkout: experiments/, plots/
    const char *results;  // results folder (RESULTS above)
    const char *device;   // passed as --device when non-NULL
    const char *exe;      // the suite binary to invoke
    int jobs;             // training children at once (0 or 1: one after another)
} RunnerOptions;

// Arguments of `suite train` for run (without the program name) and the run's
// configuration key (16 hex digits). 0, or -1 with err (e.g. data not found).
// The arguments are generated from the option table: every option the
// definition sets, then those `suite run` sets itself (--out, data, --device, tags).
int runner_train_args(const Experiment *e, const RunSpec *run, const RunnerOptions *o,
                      StrList *args, char key[17], char *err, size_t errlen);

// The run key of option values (table order, "" = unset) over an option table
// (TRAIN_OPTIONS; a test passes a longer one) and the dataset name.
void runner_run_key(const TrainOption *table, int n_options,
                    const char (*values)[EXP_VALUE_LEN], const char *data, char key[17]);

typedef enum {
    RUN_NEW,       // nothing there yet
    RUN_RESUME,    // same configuration, interrupted: continue with --resume
    RUN_FINISHED,  // same configuration, finished: skip
    RUN_DIVERGED,  // same configuration, diverged: a result, skip
    RUN_STALE,     // a different configuration (or unknown origin): move aside, start over
} RunState;
const char *run_state_name(RunState s);

// What to do with run_dir for a run whose configuration key is key.
RunState runner_run_state(const char *run_dir, const char *key);

// RESULTS/runs/<experiment>/<scale>/<slug>
void runner_run_dir(const RunnerOptions *o, const Experiment *e, const RunSpec *run, char *out,
                    size_t len);
// RESULTS/<experiment>-<scale>
void runner_results_dir(const RunnerOptions *o, const Experiment *e, char *out, size_t len);

// Run every run of e (progress and ETA on stdout), then collect, save and plot.
// Returns the exit code (suite/rundir.h): RUN_EXIT_FINISHED when every run finished
// or diverged, _ERROR when a run failed, _USAGE for a usage error in the
// definition, _INTERRUPTED when interrupted.
int runner_run_experiment(const Experiment *e, const RunnerOptions *o);

// The runs of es[0..n) together: with o->jobs > 1, up to o->jobs training
// children at once (each with OMP_NUM_THREADS = cores / jobs unless the user set
// it), a run shared by several experiments (the same key) trained once and
// reused by the others, one progress line per event; then every experiment is
// collected. With jobs 1, runner_run_experiment for each in turn. Same exit
// codes; SIGINT/SIGTERM stop the children and return RUN_EXIT_INTERRUPTED.
int runner_run_experiments(const Experiment *es, int n, const RunnerOptions *o);

// Collect every run directory of e into RESULTS/<experiment>-<scale>/ and render
// the figure (gnuplot; a missing gnuplot is a warning). 0, or -1 with err.
int runner_collect(const Experiment *e, const RunnerOptions *o, char *err, size_t errlen);
