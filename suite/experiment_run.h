// `suite run`: run an experiment's training runs one after another by invoking
// the suite binary itself (`suite train ...`, then `suite downstream ...` where the
// definition asks for it), skipping runs already finished with the same
// configuration, resuming interrupted ones, then collecting the results and
// rendering the figure.
//
// Run directory: RESULTS/runs/<experiment>/<scale>/<run slug>/ with the trainer's
// files plus train.args (and downstream.args): "key <hash>" then one argument per
// line. The hash covers every argument that shapes the result (not --resume,
// not the machine's data paths), so an edited definition re-runs exactly the
// runs it changed.
#pragma once
#include <stddef.h>

#include "suite/experiment.h"

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
} RunnerOptions;

// Arguments of `suite train` for run (without the program name) and the run's
// configuration key (16 hex digits). 0, or -1 with err (e.g. data not found).
int runner_train_args(const Experiment *e, const RunSpec *run, const RunnerOptions *o,
                      StrList *args, char key[17], char *err, size_t errlen);

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
// Returns the exit code: 0 when every run finished or diverged, 1 when a run
// failed, 2 for a usage error in the definition, 130 when interrupted.
int runner_run_experiment(const Experiment *e, const RunnerOptions *o);

// Collect every run directory of e into RESULTS/<experiment>-<scale>/ and render
// the figure (gnuplot; a missing gnuplot is a warning). 0, or -1 with err.
int runner_collect(const Experiment *e, const RunnerOptions *o, char *err, size_t errlen);
