// The training loop behind `suite train` and `suite transition` (SPEC §4):
// AdamW, warmup + cosine LR, global-norm clipping, periodic eval, atomic
// checkpoints, exact resume, divergence detection, data parallelism via
// kernels/comm.h. Writes the run directory described in README.md.
#pragma once
#include <stdint.h>

#include "kernels/ops.h"

enum { TRAIN_MAX_TAGS = 16, TRANSITION_AT_START = -2 };

typedef struct {
    const char *model;         // registry name
    const char *out_dir;       // run directory
    const char *train_data;    // dataset spec (datasets/dataset.h)
    const char *val_data;
    const char *device;        // "cpu", "cuda" or "auto"
    const char *init_from;     // start from this checkpoint's weights+state (transition)
    int steps, batch, seq_len, accum;
    int warmup;                // -1: min(2500, steps/10)
    int eval_every, eval_batches, ckpt_every, log_every;
    int moe_from;              // -1: later half
    int transition_at;         // -1: none; TRANSITION_AT_START: at the step init_from
                               // holds; else convert MoT -> TC at this step
    int resume, quiet, shared_stream, skip_bad;
    int stop_after;            // > 0: leave the loop after this step, as an interrupted run
    int precision;             // -1: device default; else a Precision
    float lr;                  // NAN: the model's peak LR
    float final_lr_frac, weight_decay, clip;
    float comm_timeout;        // seconds a collective may take before the job is ended
    uint64_t seed;
    const char *tags[TRAIN_MAX_TAGS];  // "key=value"
    int n_tags;
} TrainOptions;

void train_options_default(TrainOptions *o);
// Returns the process exit code: 0 finished, 3 diverged, 1 error.
int train_run(const TrainOptions *o);
