// `suite diff` output: the claims table on stdout and results/report-<scale>.md
// (per experiment: the figure, the runs, the claims; the precision and
// downstream experiments also as the paper's tables).
#pragma once
#include <stdio.h>

#include "suite/lab/experiment.h"
#include "suite/lab/results.h"
#include "suite/lab/results_claims.h"

typedef struct {
    const Claim *claim;
    ClaimResult result;
} JudgedClaim;

typedef struct {
    Experiment exp;
    ResultSet rs;
    char results_dir[512];  // RESULTS/<experiment>-<scale>
    JudgedClaim *judged;
    int n_judged;
} ExperimentReport;

// Judge every claim of published.csv that belongs to r->exp.
void report_judge(ExperimentReport *r, const Claim *claims, int n_claims);
void report_free(ExperimentReport *r);

// The claims table (experiment, claim, published, measured, verdict) and a
// count per verdict.
void report_print(FILE *f, Scale scale, const ExperimentReport *reps, int n);

// Markdown report at path; figure links are relative to the report's folder
// (RESULTS). 0, or -1 with err.
int report_write_markdown(const char *path, Scale scale, const ExperimentReport *reps, int n,
                          char *err, size_t errlen);
