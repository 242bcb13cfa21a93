// The trainer's state, shared by its three files: train.c (the loop),
// train_setup.c (device, model, data) and train_rundir.c (what goes on disk).
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "datasets/dataset.h"
#include "impls/model.h"
#include "kernels/comm.h"
#include "suite/rundir.h"
#include "suite/trainer/options.h"

enum { TRAIN_ERR_LEN = 1024 };

typedef struct {
    TrainOptions o;          // after setup: every derived value resolved
    const Ops *ops;
    Comm *comm;
    int rank, world;
    int rows_per_rank, micro_b, T;  // sequences per rank per step, per forward
    Precision precision;
    Model model;
    Dataset *train, *val;
    float *adam_m, *adam_v;  // (params) device
    long step;               // optimizer steps completed
    double peak_flops;       // for MFU
    char peak_source[96];
    char out_dir[1024];
    char bundled_train[1024], bundled_val[1024];  // default data paths
    int *tokens, *targets;   // (micro_b,T) host
    int *pool_tokens, *pool_targets;  // (batch,T) host: the shared global batch
    FILE *metrics, *evals, *layers;
    int lock_fd;             // DIR/.lock, held while the run lives; -1 when not held
    char err[TRAIN_ERR_LEN];
} Trainer;

static inline int is_root(const Trainer *t) { return t->rank == 0; }
// t->err = the message; returns -1.
int train_fail(Trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// train_setup.c
int train_setup(Trainer *t);
void train_print_banner(const Trainer *t);
void train_teardown(Trainer *t);

// train_rundir.c: every file of the run directory (suite/rundir.h).
void rundir_path(const Trainer *t, char *out, size_t len, const char *file);
// One trainer per run directory: -1 with t->err naming the pid holding DIR/.lock.
int rundir_lock(Trainer *t);
void rundir_unlock(Trainer *t);
int rundir_open_outputs(Trainer *t);  // the CSVs (kept up to t->step on resume) + config.json
void rundir_write_status(Trainer *t, RunStatus status, double final_eval, long diverged_at,
                         const char *message);
// A setup that failed in a directory this run holds (a --resume that cannot go on):
// status.json says "failed" with the reason and the step its checkpoint holds.
void rundir_record_setup_failure(Trainer *t);
void rundir_log_step(Trainer *t, const double values[N_METRICS_COLS]);
void rundir_log_eval(Trainer *t, double loss);
int rundir_save_checkpoint(Trainer *t);
