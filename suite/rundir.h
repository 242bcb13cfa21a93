// The run directory: the one contract between the trainer (suite/trainer/, which
// writes it) and the lab (suite/lab/, which reads it). The lab knows the trainer
// only through this header and the option table (suite/trainer/options.h): file
// names, CSV columns (read by header name, never by position), status words and
// the exit codes of `suite train`.
#pragma once
#include <stddef.h>

// ---- files ---------------------------------------------------------------------
#define RUNDIR_CONFIG "config.json"       // options that change results + environment
#define RUNDIR_STATUS "status.json"       // RunStatus, step, final eval loss
#define RUNDIR_METRICS "metrics.csv"      // one row per step: METRICS_COLS
#define RUNDIR_EVAL "eval.csv"            // one row per eval: EVAL_COLS
#define RUNDIR_LAYERS "layers.csv"        // one row per MoE layer per eval: LAYERS_COLS
#define RUNDIR_CKPT "ckpt.safetensors"    // weights + AdamW state (resume)
#define RUNDIR_LOCK ".lock"              // flock'd by the live trainer; holds its pid
#define RUNDIR_TRAIN_ARGS "train.args"    // lab: "key <hash>", "scheme N", then the argv
#define RUNDIR_TRAIN_LOG "train.log"      // lab: the trainer's stdout and stderr
#define RUNDIR_DOWNSTREAM_ARGS "downstream.args"
#define RUNDIR_DOWNSTREAM_CSV "downstream.csv"
#define RUNDIR_DOWNSTREAM_LOG "downstream.log"
// The loss on the bundled C4 validation sample of a run trained on other data
// (`suite eval --out`), shown beside its own validation loss.
#define RUNDIR_BESIDE_ARGS "eval-c4-sample.args"
#define RUNDIR_BESIDE_CSV "eval-c4-sample.csv"  // dataset,batches,eval_loss (one row)
#define RUNDIR_BESIDE_LOG "eval-c4-sample.log"

// config.json keys the lab reads besides the options (which use their YAML names).
#define CONFIG_TRAIN_DATASET "train_dataset"  // dataset label, e.g. "c4-sample"
#define CONFIG_DEVICE "device"                // the device the run used (not --device)
#define CONFIG_PRECISION "precision"
#define CONFIG_COMMIT "commit"
#define CONFIG_SEQ_LEN "seq_len"  // the sequence length used (the model's when not given)

// ---- CSV columns ---------------------------------------------------------------
typedef enum {
    METRICS_STEP, METRICS_LOSS, METRICS_CE_LOSS, METRICS_AUX_LOSS, METRICS_LR,
    METRICS_GRAD_NORM, METRICS_TOKENS_PER_S, METRICS_MFU, METRICS_ELAPSED_S, N_METRICS_COLS
} MetricsCol;
typedef enum { EVAL_STEP, EVAL_TOKENS, EVAL_LOSS, EVAL_MODE, N_EVAL_COLS } EvalCol;
typedef enum {
    LAYERS_STEP, LAYERS_LAYER, LAYERS_FAMILY, LAYERS_ROUTER_ENTROPY, LAYERS_DROPPED_FRACTION,
    LAYERS_LOAD_MAX_OVER_MEAN, LAYERS_AUX_LOSS, N_LAYERS_COLS
} LayersCol;
extern const char *const METRICS_COLS[N_METRICS_COLS];  // "step", "loss", ...
extern const char *const EVAL_COLS[N_EVAL_COLS];
extern const char *const LAYERS_COLS[N_LAYERS_COLS];
// downstream.csv (`suite downstream --out`): one row per task; accuracies and their
// binomial standard errors in percent, "published" names the one the paper reports.
typedef enum {
    DOWNSTREAM_TASK, DOWNSTREAM_EXAMPLES, DOWNSTREAM_ACC, DOWNSTREAM_ACC_SE, DOWNSTREAM_ACC_NORM,
    DOWNSTREAM_ACC_NORM_SE, DOWNSTREAM_PUBLISHED, DOWNSTREAM_STATUS, N_DOWNSTREAM_COLS
} DownstreamCol;
extern const char *const DOWNSTREAM_COLS[N_DOWNSTREAM_COLS];
// eval-c4-sample.csv (`suite eval --out`): the data's label, the batches evaluated
// and the mean loss in nats, one row.
#define EVAL_OUT_HEADER "dataset,batches,eval_loss"
#define EVAL_OUT_LOSS_COL "eval_loss"

// ---- status.json ---------------------------------------------------------------
typedef enum {
    RUN_STATUS_NONE,  // no status.json (or unreadable): never started
    RUN_STATUS_RUNNING,  // started; if no trainer is alive, it was interrupted
    RUN_STATUS_FINISHED,
    RUN_STATUS_DIVERGED,
    RUN_STATUS_FAILED,  // the last attempt failed, also a --resume that could not start
                        // (status.json keeps the checkpoint's step; --resume goes on)
} RunStatus;
// "not run", "running", "finished", "diverged", "failed".
const char *run_status_name(RunStatus s);
// The status of a word from status.json; unknown words read as RUN_STATUS_NONE.
RunStatus run_status_parse(const char *word);
// DIR/status.json: the status and *step, the optimizer steps completed (0 if none).
RunStatus run_status_read(const char *run_dir, long *step);

// ---- exit codes of `suite train` (and `suite run`) -------------------------------
typedef enum {
    RUN_EXIT_FINISHED = 0,  // also: stopped by --stop-after, resumable
    RUN_EXIT_ERROR = 1,
    RUN_EXIT_USAGE = 2,     // bad arguments: every run of a definition would fail
    RUN_EXIT_DIVERGED = 3,  // recorded in status.json: a result, not a failure
    RUN_EXIT_NO_EXEC = 127,  // the runner could not start the binary
    RUN_EXIT_SIGNAL = 128,   // 128 + N: the trainer was killed by signal N
    RUN_EXIT_INTERRUPTED = 130,  // 128 + SIGINT: what `suite run` returns when stopped
} RunExit;
