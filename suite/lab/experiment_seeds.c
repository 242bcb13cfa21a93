// Seed replicates: one run of a definition becomes n_seeds RunSpecs that differ
// only in --seed and directory, so the results can measure seed-to-seed noise.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.h"
#include "suite/lab/experiment.h"

void experiment_push_replicates(Experiment *e, const RunSpec *run, int n_seeds) {
    // The base slug: a replicate's "<slug>/seed-<s>" without its seed part.
    char slug[EXP_NAME_LEN];
    snprintf(slug, sizeof slug, "%.*s", (int)strcspn(run->slug, "/"), run->slug);
    long first = run_value(run, "seed") ? run_number(run, "seed") - run->replicate : 1;
    RunSpec *runs = realloc(e->runs, (size_t)(e->n_runs + n_seeds) * sizeof(RunSpec));
    if (!runs) die("out of memory");
    e->runs = runs;
    for (int k = 0; k < n_seeds; k++) {
        RunSpec *r = &e->runs[e->n_runs++];
        *r = *run;
        r->replicate = k;
        r->n_seeds = n_seeds;
        char seed[24];
        snprintf(seed, sizeof seed, "%ld", first + k);
        run_set_value(r, "seed", seed, NULL, 0);  // a valid number
        snprintf(r->slug, sizeof r->slug, "%.*s/seed-%.17s", EXP_SLUG_BASE_LEN, slug, seed);
    }
}

void experiment_set_seeds(Experiment *e, int n_seeds) {
    RunSpec *old = e->runs;
    int n_old = e->n_runs;
    e->runs = NULL;
    e->n_runs = 0;
    for (int i = 0; i < n_old; i++)
        if (old[i].replicate == 0) experiment_push_replicates(e, &old[i], n_seeds);
    free(old);
}
