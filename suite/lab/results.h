// Measured results of one experiment at one scale. `suite run` collects them
// from the run directories (config.json, status.json, eval.csv, metrics.csv,
// downstream.csv) into results/<experiment>-<scale>/, and `suite diff` reads
// only that folder, so committed results can be diffed without the runs:
//   summary.csv     run,model,dataset,scale,device,precision,commit,status,
//                   final_eval_loss,final_train_loss,steps,diverged_at
//   curves.csv      run,step,tokens,eval_loss,mode        (every eval of every run)
//   train.csv       run,step,train_loss                   (window means, <= 50 per run)
//   downstream.csv  run,task,examples,acc,acc_norm,status (scored checkpoints)
#pragma once
#include <stddef.h>

#include "suite/rundir.h"

enum { RES_NAME_LEN = 64 };

typedef struct {
    char run[RES_NAME_LEN];  // the paper's run name
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
} RunSummary;

typedef struct {
    char run[RES_NAME_LEN];
    long step, tokens;
    double loss;
    char mode[8];  // eval.csv: dense|mot|ec|tc; train.csv: "train"
} CurvePoint;

typedef struct {
    char run[RES_NAME_LEN];
    char task[16];
    long examples;
    double acc, acc_norm;  // percent; NAN when not run
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
int results_collect_run(ResultSet *rs, const char *run_dir, const char *run_name, const char *model,
                        const char *scale, char *err, size_t errlen);

const RunSummary *results_find_run(const ResultSet *rs, const char *run);
const TaskScore *results_find_score(const ResultSet *rs, const char *run, const char *task);

