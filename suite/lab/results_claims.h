// The paper's published claims (experiments/published.csv) and how each is
// measured from an experiment's results (experiments/README.md documents the rules).
//
// metric: eval_loss | train_loss (final values from summary.csv; lower is better)
//         acc:TASK | acc_norm:TASK (downstream.csv, percent; higher is better)
// rule:   better        every run in `runs` is better than every run in `reference`
//                       by any margin, or worse by less than `tolerance`
//         improving     each run in `runs` is better than the one before it (same slack)
//         speedup       for the best run in `runs`: reference's final steps / the first
//                       step (interpolated) where the run's eval loss reaches the
//                       reference's final eval loss; holds if >= published - tolerance
//         degrades_more runs = A (mixed); A (bf16), reference = B (mixed); B (bf16):
//                       A's loss rises more in bf16 than B's (by more than tolerance);
//                       A diverging in bf16 while B does not counts as holding
//         spike         the TC eval at the switch step is above the MoT eval there by
//                       more than tolerance
//         recovers      a later TC eval returns to at most the pre-switch MoT eval
//                       plus tolerance
//         accuracy      |measured - published| <= tolerance (points)
#pragma once
#include <stddef.h>

#include "suite/lab/experiment.h"
#include "suite/lab/results.h"

enum { CLAIM_MAX_RUNS = 6, CLAIM_TEXT_LEN = 160 };

typedef enum {
    RULE_BETTER,
    RULE_IMPROVING,
    RULE_SPEEDUP,
    RULE_DEGRADES_MORE,
    RULE_SPIKE,
    RULE_RECOVERS,
    RULE_ACCURACY
} ClaimRule;

typedef struct {
    char id[48];
    char experiment[EXP_NAME_LEN];
    char claim[CLAIM_TEXT_LEN];
    char published[48];
    ClaimRule rule;
    char metric[32];
    char runs[CLAIM_MAX_RUNS][RES_NAME_LEN];
    int n_runs;
    char reference[CLAIM_MAX_RUNS][RES_NAME_LEN];
    int n_reference;
    double tolerance;
    unsigned scales;  // bit s set: the claim is checked at Scale s
    char source[CLAIM_TEXT_LEN];
} Claim;

// Load published.csv. 0, or -1 with err = "path:line: what is wrong".
int claims_load(const char *path, Claim **out, int *n, char *err, size_t errlen);

typedef enum {
    VERDICT_HOLDS,
    VERDICT_FAILS,
    VERDICT_NOT_RUN,
    VERDICT_DIVERGED,
    VERDICT_NA
} Verdict;
const char *verdict_name(Verdict v);  // "holds", "fails", "not run", "diverged", "n/a"

typedef struct {
    Verdict verdict;
    char measured[CLAIM_TEXT_LEN];  // the measured value(s), or why there are none
} ClaimResult;

// Judge one claim at e's scale from rs. e says which runs exist at that scale:
// a claim on a run the scale does not define, or outside the claim's scales, is n/a.
ClaimResult claim_evaluate(const Claim *c, const Experiment *e, const ResultSet *rs);
