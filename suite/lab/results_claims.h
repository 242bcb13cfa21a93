// The paper's published claims (experiments/published.csv) and how each is
// measured from an experiment's results (experiments/README.md documents the rules).
//
// metric: eval_loss | train_loss (final values, mean over seed replicates; lower is
//         better), acc:TASK | acc_norm:TASK (downstream.csv, percent; higher is better)
//
// Noise floor: a difference d is judged against sigma, its standard deviation from
// the seed replicates: losses of runs with the same seeds and batches seed by seed
// (s_d/sqrt(n), results_paired_stats), else sqrt(s_a^2/n_a + s_b^2/n_b); for
// accuracies the binomial standard errors. |d| <= floor is "inconclusive"; beyond it "holds" or "fails".
// floor = max(2 sigma, tolerance) for losses, max(sigma, tolerance) for accuracies.
// One seed (sigma unknown) is inconclusive, except at a scale that judges one seed
// (paper), where floor = tolerance. At a smoke scale (tiny) every judged claim is
// "smoke", with its measurement.
//
// rule:   better        every run in `runs` is better than every run in `reference`;
//                       a loss reference that diverged (a run that did not) counts as
//                       beaten: that instability is the claim of the precision table
//         matches       every run in `runs` is better than every reference run, or
//                       worse by at most the floor ("within noise, or better"); fails
//                       only when worse beyond it (a diverged reference is beaten)
//         improving     each run in `runs` is better than the one before it
//         speedup       for the best run in `runs`: reference's final steps / the first
//                       step (interpolated) where the run's mean eval loss reaches the
//                       reference's final eval loss ("step speedup"; wall-clock speedup
//                       beside it). At a one-seed scale holds if >= published - tolerance,
//                       elsewhere it is judged against 1x with the seeds' sigma
//         degrades_more runs = A (mixed); A (bf16), reference = B (mixed); B (bf16):
//                       A's loss rises more in bf16 than B's; A diverging in bf16
//                       while B does not counts as holding
//         spike         the TC eval at the switch step is above the MoT eval there
//         recovers      `matches` with runs = the transition run and reference = its
//                       control (MoT on the same schedule, no switch): the final loss
//                       after the switch is below the control's or above it by at
//                       most the floor
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
    RULE_ACCURACY,
    RULE_MATCHES
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
    VERDICT_NA,
    VERDICT_INCONCLUSIVE,  // within the noise floor (or one seed: no noise estimate)
    VERDICT_SMOKE,         // a smoke scale: measured, not judged
    N_VERDICTS
} Verdict;
// "holds", "fails", "not run", "diverged", "n/a", "inconclusive", "smoke"
const char *verdict_name(Verdict v);

enum { CLAIM_MEASURED_LEN = 320 };

typedef struct {
    Verdict verdict;
    char measured[CLAIM_MEASURED_LEN];  // the values, difference and sigma, or why none
} ClaimResult;

// Judge one claim at e's scale from rs. e says which runs exist at that scale:
// a claim on a run the scale does not define, or outside the claim's scales, is n/a.
ClaimResult claim_evaluate(const Claim *c, const Experiment *e, const ResultSet *rs);
