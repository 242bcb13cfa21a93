// Zero-shot multiple-choice evaluation (the rebuttal's downstream table, SPEC §5):
// PIQA, ARC-Easy and HellaSwag read in their public formats, each choice scored
// by the log-likelihood the model gives it after the context.
//
// Prompts follow the common zero-shot harness format:
//   PIQA       "Question: {goal}\nAnswer:"        + " {sol1|sol2}"
//   ARC-Easy   "Question: {stem}\nAnswer:"        + " {choice text}"
//   HellaSwag  "{activity_label}: {ctx_a} {Ctx_b}" + " {ending}"  (WikiHow markup removed,
//              ctx_b capitalised like Python's str.capitalize)
// Every context starts with the model's end-of-text token, as the authors'
// evaluation did. acc picks the choice with the highest summed log-probability;
// acc_norm divides it first by the choice's length in characters (code points),
// not counting the space that separates it from the context. Both are reported
// for every task; the paper's table gives acc for PIQA and ARC-Easy and acc_norm
// for HellaSwag (mc_published_metric, experiments/published.csv).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "datasets/tokenizer.h"

// The version of the scoring rules above: a run scored under older rules (before
// end-of-text was prepended and acc_norm counted characters) is scored again.
enum { MC_SCORING_RULES = 2 };

typedef struct {
    char *context;
    char **choices;  // each begins with the space that separates it from the context
    int n_choices;
    int label;  // index of the right choice
} McExample;

typedef struct {
    char name[16];  // "piqa", "arc-easy", "hellaswag"
    McExample *items;
    int count;
} McTask;

// The tasks, in the order the tables list them. mc_task_index returns a task's
// index, or -1 for a name that is none of them; MC_TASK_NAMES lists them for messages.
typedef enum { MC_PIQA, MC_ARC_EASY, MC_HELLASWAG, MC_N_TASKS } McTaskId;
#define MC_TASK_NAMES "piqa, arc-easy or hellaswag"
const char *mc_task_name(McTaskId id);
int mc_task_index(const char *name);

// The task data folder: $MOT_DOWNSTREAM_DIR, else ROOT/datasets/downstream (shipped
// with the project), else ROOT/../shared/data/downstream; ROOT is experiment_root.
// When none exists, the shipped path (the error then names it).
void mc_default_data_dir(char *out, size_t len);

// "acc" or "acc_norm": the metric the paper's table reports for task (acc for
// PIQA and ARC-Easy, acc_norm for HellaSwag); NULL for an unknown task.
const char *mc_published_metric(const char *task);

// Python's str.capitalize on ASCII letters: the first character upper case, the
// rest lower case ("hELLO wORLD" -> "Hello world"); other bytes unchanged. malloc'd.
char *mc_capitalize(const char *s);

// Where task's data sits under data_dir (a folder laid out like
// shared/data/downstream): piqa/valid.jsonl (+ valid-labels.lst beside it),
// arc_easy/ARC-Easy-Test.jsonl, and for HellaSwag $MOT_HELLASWAG or
// hellaswag/hellaswag_val.jsonl or hellaswag_val.jsonl. 0 when the file exists,
// else -1 with err saying where to put it.
int mc_task_path(const char *task, const char *data_dir, char *out, size_t len, char *err,
                 size_t errlen);

// Load the first limit examples (all when limit <= 0) of task from path. 0, or
// -1 with err naming file and line.
int mc_task_load(const char *task, const char *path, int limit, McTask *out, char *err,
                 size_t errlen);
void mc_task_free(McTask *t);

// The model as the scorer sees it: log-probabilities of targets for a (B,T)
// batch, and fresh filler rows (C4 train text) for the batch around a query.
typedef struct {
    int B, T;
    // logp (B,T) = log p(targets[b,t] | tokens[b,..t]); 0 where targets < 0.
    void (*logprobs)(void *model, const int *tokens, const int *targets, float *logp);
    void *model;
    // tokens (B,T) of random training text; NULL for a model whose rows never
    // interact (dense), which then scores B queries per forward.
    void (*filler)(void *source, int *tokens);
    void *filler_source;
    uint64_t seed;  // which row each query takes
    int eot;        // the model's end-of-text id (vocab_size-1): starts every context
} McScorer;

typedef struct {
    int examples;
    int correct, correct_norm;
    double sum_logprob;  // over every choice of every example (for tests and checks)
} McScore;

// The characters acc_norm divides by: code points of choice after its leading
// space (" abc" -> 3), at least 1.
int mc_choice_chars(const char *choice);
// The choice acc picks (highest logprob[c]) and the one acc_norm picks (highest
// logprob[c] / mc_choice_chars); the first on ties.
void mc_pick(const McExample *ex, const double *logprob, int *best, int *best_norm);
// Binomial standard error sqrt(p(1-p)/n) of an accuracy p = correct/n (a fraction).
double mc_binomial_se(int correct, int n);

// Score every example of task. Each choice is one sequence: end-of-text, context,
// then choice, cut from the left to T+1 tokens. With a filler, each example's choices sit in
// one random row of a batch whose other rows are the same filler text (the
// paper's rule: a single query per batch of 32, so MoT has a group).
void mc_score(const McScorer *s, TokenizerSession *tok, const McTask *task, McScore *out);
