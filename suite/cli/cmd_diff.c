// suite diff: the paper's published claims next to what the results measured.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/lab/experiment.h"
#include "suite/paths.h"
#include "suite/lab/results_claims.h"
#include "suite/lab/results_report.h"

static const char *DIFF_USAGE =
    "usage: suite diff [EXPERIMENT] [--scale S] [--results DIR]\n\n"
    "Judges every published claim (experiments/published.csv) from the results of\n"
    "`suite run` (RESULTS/EXPERIMENT-SCALE/): holds, fails, not run, diverged, or n/a\n"
    "when the claim is not checked at this scale. Prints the table and writes\n"
    "RESULTS/report-SCALE.md with the figures and the paper's tables.";

int cmd_diff(int argc, char **argv) {
    const char *scale_arg = "tiny", *results = "results", *only = NULL, *published = NULL;
    ArgSpec specs[] = {
        {"scale", ARG_STRING, &scale_arg, "S           " SCALE_CHOICES " (default tiny)"},
        {"results", ARG_STRING, &results, "DIR         results folder (default results)"},
        {"published", ARG_STRING, &published, "CSV         claims (default experiments/published.csv)"},
    };
    int rc = args_parse(argc, argv, DIFF_USAGE, specs, sizeof specs / sizeof specs[0], &only);
    if (rc) return rc == 1 ? 0 : rc;
    Scale scale;
    if (scale_parse(scale_arg, &scale)) {
        fprintf(stderr, "suite diff: --scale must be " SCALE_CHOICES " (got '%s')\n", scale_arg);
        return 2;
    }
    struct stat st;
    if (stat(results, &st) != 0 || !S_ISDIR(st.st_mode)) {  // a typo must not create a folder
        fprintf(stderr, "suite diff: --results %s is not a directory (give the folder `suite run` wrote to)\n",
                results);
        return 2;
    }
    char root[PATH_MAX], path[PATH_MAX], err[1024], names[64][EXP_NAME_LEN];
    experiment_root(root, sizeof root);
    if (!published) {
        snprintf(path, sizeof path, "%s/experiments/published.csv", root);
        published = path;
    }
    Claim *claims;
    int n_claims;
    if (claims_load(published, &claims, &n_claims, err, sizeof err)) {
        fprintf(stderr, "suite diff: %s\n", err);
        return 1;
    }
    int n = only ? 1 : experiment_list_names(root, names, 64);
    if (only) snprintf(names[0], EXP_NAME_LEN, "%s", only);
    ExperimentReport *reps = calloc(n > 0 ? n : 1, sizeof(ExperimentReport));
    int loaded = 0, status = 0;
    for (int i = 0; i < n && !status; i++) {
        ExperimentReport *r = &reps[loaded];
        if (experiment_load_by_name(root, names[i], scale, &r->exp, err, sizeof err)) {
            fprintf(stderr, "suite diff: %s\n", err);
            status = only ? 2 : 1;
            break;
        }
        snprintf(r->results_dir, sizeof r->results_dir, "%s/%s-%s", results, r->exp.name,
                 scale_name(scale));
        if (results_load(r->results_dir, &r->rs, err, sizeof err)) {
            fprintf(stderr, "suite diff: %s\n", err);
            experiment_free(&r->exp);
            status = 1;
            break;
        }
        report_judge(r, claims, n_claims);
        loaded++;
    }
    if (!status) {
        report_print(stdout, scale, reps, loaded);
        char md[PATH_MAX];
        snprintf(md, sizeof md, "%s/report-%s.md", results, scale_name(scale));
        if (report_write_markdown(md, scale, reps, loaded, err, sizeof err)) {
            fprintf(stderr, "suite diff: %s\n", err);
            status = 1;
        } else {
            printf("report: %s\n", md);
        }
    }
    for (int i = 0; i < loaded; i++) report_free(&reps[i]);
    free(reps);
    free(claims);
    return status;
}
