// Measured results of one experiment at one scale. `suite run` collects them
// from the run directories (config.json, status.json, eval.csv, metrics.csv,
// downstream.csv, eval-c4-sample.csv) into results/<experiment>-<scale>/, and `suite diff` reads
// only that folder, so committed results can be diffed without the runs:
//   summary.csv     run,seed,model,dataset,scale,device,precision,commit,status,
//                   final_eval_loss,final_train_loss,steps,diverged_at,elapsed_s,
//                   c4_sample_eval_loss (one row per seed replicate; the last
//                   column is optional when read: results from before it)
//   seeds.csv       run,n_seeds,final_eval_loss_mean,final_eval_loss_std,
//                   final_train_loss_mean,final_train_loss_std (finished replicates;
//                   written only, recomputed from summary.csv when read)
//   curves.csv      run,seed,step,tokens,eval_loss,mode   (every eval of every run)
//   train.csv       run,seed,step,train_loss              (window means, <= 50 per run)
//   downstream.csv  run,seed,task,examples,acc,acc_norm,acc_se,acc_norm_se,status
//                   (scored checkpoints; the standard errors in percent points)
#pragma once
#include <stddef.h>

#include "suite/rundir.h"

enum { RES_NAME_LEN = 64 };

typedef struct {
    char run[RES_NAME_LEN];  // the paper's run name
    long seed;               // --seed of this replicate
    char model[RES_NAME_LEN];
    char dataset[32];
    char scale[8];
    char device[64];
    char precision[8];
    char commit[48];
    RunStatus status;         // summary.csv: its run_status_name
    double final_eval_loss;   // NAN when none
    double final_train_loss;  // mean of the last tenth of the logged steps; NAN when none
    long steps;               // optimizer steps completed
    long diverged_at;         // -1 unless diverged
    double elapsed_s;         // wall time of the last logged step; NAN when none
    // Loss on the bundled C4 validation sample of a run trained on other data
    // (eval-c4-sample.csv), beside final_eval_loss on its own data; NAN when none.
    double c4_sample_eval_loss;
} RunSummary;

typedef struct {
    char run[RES_NAME_LEN];
    long seed;
    long step, tokens;
    double loss;
    char mode[8];  // eval.csv: dense|mot|ec|tc; train.csv: "train"
} CurvePoint;

typedef struct {
    char run[RES_NAME_LEN];
    long seed;
    char task[16];
    long examples;
    double acc, acc_norm;  // percent; NAN when not run
    double acc_se, acc_norm_se;  // binomial standard errors, percent points; NAN: unknown
    char status[16];       // ok | not run
} TaskScore;

typedef struct {
    RunSummary *runs;
    int n_runs;
    CurvePoint *evals;
    int n_evals;
    CurvePoint *train;
    int n_train;
    TaskScore *scores;
    int n_scores;
} ResultSet;

// Read results/<experiment>-<scale>/ (dir). Missing files leave their part
// empty; a malformed file is an error. 0, or -1 with err.
int results_load(const char *dir, ResultSet *rs, char *err, size_t errlen);
// Write the four files into dir (created if needed). 0, or -1 with err.
int results_save(const char *dir, const ResultSet *rs, char *err, size_t errlen);
void results_free(ResultSet *rs);

// Append one run directory to rs under run_name. A directory without status.json
// gives a summary row with status "not run". 0, or -1 with err for a malformed file.
int results_collect_run(ResultSet *rs, const char *run_dir, const char *run_name, long seed,
                        const char *model, const char *scale, char *err, size_t errlen);

// The first replicate's row of run, or NULL.
const RunSummary *results_find_run(const ResultSet *rs, const char *run);
const TaskScore *results_find_score(const ResultSet *rs, const char *run, const char *task);

// ---- across seed replicates (results_stats.c) -------------------------------------

typedef struct {
    int n;              // finished replicates with a value
    double mean, std;   // std: sample standard deviation (n - 1); NAN when n < 2
} SeedStats;

// metric over the finished replicates of run: "eval_loss", "train_loss",
// "c4_sample_eval_loss" or "elapsed_s".
SeedStats results_run_stats(const ResultSet *rs, const char *run, const char *metric);
// a - b of metric seed by seed, over the seeds both finished (n, mean and sample
// std of the differences). Runs of one experiment with the same seed draw the
// same training batches in the same order and are evaluated on the same fixed
// batches, so the differences cancel the data-order noise that comparing two
// means counts twice. n = 0 when a seed of one run has no partner in the other.
SeedStats results_paired_stats(const ResultSet *rs, const char *a, const char *b,
                               const char *metric);
// The status that speaks for all replicates of run: DIVERGED if one diverged, else
// FINISHED if one finished, else the first replicate's (NONE when there is none).
// *row: that replicate's row (NULL when none).
RunStatus results_run_status(const ResultSet *rs, const char *run, const RunSummary **row);
// Points of run in pts (mode "": any; seed < 0: every seed), averaged over the
// seeds at each (step, mode), in the first replicate's order. Returns how many (<= max).
int results_mean_curve(const CurvePoint *pts, int n_pts, const char *run, const char *mode,
                       long seed, CurvePoint *out, int max);
// The seeds of run's replicates in summary order; returns how many (<= max).
int results_run_seeds(const ResultSet *rs, const char *run, long *seeds, int max);

