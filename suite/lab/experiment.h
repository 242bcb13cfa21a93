// Experiment definitions (experiments/<name>.yaml): one figure or table of the
// paper as a list of training runs, expanded at one of four scales (SPEC §6).
//
// Every run value (steps, batch, lr, model, ...) is either one YAML scalar that
// holds at every scale or a mapping {paper: .., small: .., cpu: .., tiny: ..}; a run whose
// model has no entry for a scale is not part of the experiment at that scale.
// Values a run does not set come from the file's per-scale defaults (`scales:`),
// and what neither sets is left to `suite train`'s own defaults, except the
// precision: a scale's own (ScaleInfo) fills it, so the run key always holds it
// and a CPU run never shares a key with a GPU run of the same definition.
//
// Seed replicates: `seeds: N` (in `scales:` or in a run; default ScaleInfo.seeds)
// expands a run into N RunSpecs with the same name, seeds S..S+N-1 (S = the run's
// `seed`, default 1), each in its own directory <slug>/seed-<s>.
#pragma once
#include <stddef.h>

#include "suite/trainer/options.h"

typedef enum { SCALE_PAPER = 0, SCALE_SMALL, SCALE_CPU, SCALE_TINY, N_SCALES } Scale;
#define SCALE_CHOICES "paper, small, cpu or tiny"

// What a scale means for its runs and verdicts; a new scale is one enum entry,
// one row of SCALES (experiment.c) and a section in every definition.
typedef struct {
    const char *name;       // "paper"
    const char *precision;  // filled in where a definition leaves it unset
    int seeds;              // replicates per run where a definition does not say
    int smoke;              // verdicts are "smoke": the pipeline runs, no claim is judged
    int one_seed_judged;    // one seed is judged against the claim's tolerance alone
    int on_cpu;             // sized for CPU cores: `suite list` estimates hours here
    int reduced_vocab_ok;   // models may use a reduced GPT-2 vocabulary (labelled)
} ScaleInfo;
const ScaleInfo *scale_info(Scale s);

enum {
    EXP_NAME_LEN = 64,
    EXP_TEXT_LEN = 256,
    EXP_VALUE_LEN = 64,
    EXP_MAX_TASKS = 4,
    EXP_MAX_SEEDS = 99,
    EXP_SLUG_BASE_LEN = 40,  // a run's slug before "/seed-<s>"
};

const char *scale_name(Scale s);
// "paper" | "small" | "cpu" | "tiny" -> 0, else -1.
int scale_parse(const char *name, Scale *out);

// A run's training options are the keys of the option table (suite/trainer/options.h)
// with '_' for '-', except those `suite run` sets itself (out, device, ...).
typedef struct {
    char name[EXP_NAME_LEN];  // the paper's name, the legend: "MoT-Medium/32E/16"
    char slug[EXP_NAME_LEN];  // its directory: "mot-medium_32e_16/seed-1"
    int replicate;            // 0 .. n_seeds-1: which seed replicate of the run
    int n_seeds;              // replicates of the run
    char data[32];            // dataset name, see experiment_data_paths
    // Text of each training option as the definition writes it, in TRAIN_OPTIONS
    // order; "" where the definition leaves it to `suite train`.
    char values[TRAIN_OPTIONS_MAX][EXP_VALUE_LEN];
} RunSpec;

// The text of a training option of run ("model", "seq_len" or "seq-len"), NULL if unset.
const char *run_value(const RunSpec *run, const char *option);
// A numeric option as a number; 0 when unset.
long run_number(const RunSpec *run, const char *option);
// Set an option from text (checked as `suite train` would). 0, or -1 with
// err = "KEY: 'text' is not ...".
int run_set_value(RunSpec *run, const char *option, const char *text, char *err, size_t errlen);
// Tokens the run trains on and its training FLOPs. 0, or -1 when its model is unknown.
int run_cost(const RunSpec *run, double *tokens, double *flops);

typedef struct {
    char name[EXP_NAME_LEN];   // "fig-params"
    char title[EXP_TEXT_LEN];  // figure title, without the scale
    char plot[16];             // "eval-loss" or "train-loss": which curves the figure shows
    char table[16];            // "precision": the report also shows the paper's precision table
    char path[512];            // the definition file
    Scale scale;
    RunSpec *runs;  // only the runs that exist at this scale, every seed replicate
    int n_runs;
    int n_tasks;  // downstream tasks scored on every run's checkpoint
    char tasks[EXP_MAX_TASKS][16];
    int downstream_limit;  // examples per task (0: all)
} Experiment;

// Parse and validate a definition (every scale it defines is checked, so a typo
// in the paper section fails a tiny run too; only `scale` must be defined) and
// expand it at scale. 0, or -1 with
// err = "path:line: what is wrong and how to fix it".
int experiment_load(const char *path, Scale scale, Experiment *out, char *err, size_t errlen);
// root/experiments/NAME.yaml; an unknown NAME lists the known ones in err.
int experiment_load_by_name(const char *root, const char *name, Scale scale, Experiment *out,
                            char *err, size_t errlen);
void experiment_free(Experiment *e);
// Append n_seeds replicates of run to e: seeds S..S+n_seeds-1 (S: run's `seed`,
// default 1), slugs <slug>/seed-<s>.
void experiment_push_replicates(Experiment *e, const RunSpec *run, int n_seeds);
// Replace every run's replicates by n_seeds of them (`suite run --seeds N`).
void experiment_set_seeds(Experiment *e, int n_seeds);

// The experiment names under root/experiments (*.yaml), sorted. Returns how many
// (at most max), or -1 when the folder cannot be read.
int experiment_list_names(const char *root, char names[][EXP_NAME_LEN], int max);

// The vocabulary size the runs' models share (0 when they differ or are unknown):
// below GPT-2's 50257 it is a reduced vocabulary, which results must say.
int experiment_vocab_size(const Experiment *e);

// Index of a run's first replicate by its paper name, or -1.
int experiment_find_run(const Experiment *e, const char *run_name);

// Training/validation data for a dataset name of the definitions:
//   c4-sample        the trainer's bundled C4 sample (train, val left empty)
//   english-standin  $MOT_STANDIN_DIR, else ROOT/datasets/english-standin (shipped: two
//                    train shards and the validation shard), else ROOT/../shared/data/english-standin
//   c4               $MOT_C4_DIR: a folder holding allenai/c4 en/c4-{train,validation}.*.json.gz
// 0, or -1 with err naming the variable to set.
int experiment_data_paths(const char *root, const char *dataset, char *train, char *val, size_t len,
                          char *err, size_t errlen);

// The suite checkout holding experiments/ and plots/: the folder of the running
// binary when it has experiments/, else the working directory.
void experiment_root(char *out, size_t len);
