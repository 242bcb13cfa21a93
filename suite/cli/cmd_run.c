// suite run EXPERIMENT [EXPERIMENT ...]: every run of some figures/tables at one scale.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/common.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/lab/experiment.h"
#include "suite/lab/experiment_run.h"
#include "suite/rundir.h"

enum { MAX_JOBS = 64 };

static const char *RUN_USAGE =
    "usage: suite run EXPERIMENT [EXPERIMENT ...] [--scale S] [--seeds N]\n"
    "                 [--jobs N] [--device D] [--results DIR]\n\n"
    "Runs the training runs of experiments/EXPERIMENT.yaml (of each one named), each\n"
    "seed replicate in RESULTS/runs/EXPERIMENT/SCALE/RUN/seed-S/ (`suite train --seed\n"
    "S`), skipping runs that finished with the same configuration and resuming\n"
    "interrupted ones, then writes RESULTS/EXPERIMENT-SCALE/summary.csv (one row per\n"
    "seed), seeds.csv (mean and std per run) and the figure. With --jobs N, up to N\n"
    "runs of all the named experiments train at once, each child with\n"
    "OMP_NUM_THREADS = cores / N (unless OMP_NUM_THREADS is set); a run two\n"
    "experiments share trains once. `suite list` shows the experiments; `suite diff`\n"
    "compares the results with the paper.";

// Split argv into the experiment names and the options (with their values) for
// args_parse, which takes one positional argument only. names/rest hold argc items.
static int split_names(int argc, char **argv, const ArgSpec *specs, int n_specs,
                       const char **names, char **rest, int *n_rest) {
    int n = 0;
    *n_rest = 0;
    rest[(*n_rest)++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2)) {
            names[n++] = argv[i];
            continue;
        }
        rest[(*n_rest)++] = argv[i];
        for (int k = 0; k < n_specs; k++)
            if (!strcmp(argv[i] + 2, specs[k].name) && specs[k].type != ARG_FLAG && i + 1 < argc)
                rest[(*n_rest)++] = argv[++i];
    }
    return n;
}

// Load every named experiment (a name given twice once) before anything runs.
// Returns how many, or -1 (printed).
static int load_all(const char **names, int n, const char *root, Scale scale, int seeds,
                    Experiment *es) {
    char err[1024];
    int loaded = 0;
    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int k = 0; k < i; k++) dup |= !strcmp(names[k], names[i]);
        if (dup) continue;
        if (experiment_load_by_name(root, names[i], scale, &es[loaded], err, sizeof err)) {
            fprintf(stderr, "suite run: %s\n", err);
            for (int k = 0; k < loaded; k++) experiment_free(&es[k]);
            return -1;
        }
        if (seeds) experiment_set_seeds(&es[loaded], seeds);
        loaded++;
    }
    return loaded;
}

static int check_options(const char *scale_arg, Scale *scale, int seeds, int jobs) {
    if (scale_parse(scale_arg, scale)) {
        fprintf(stderr, "suite run: --scale must be " SCALE_CHOICES " (got '%s')\n", scale_arg);
        return RUN_EXIT_USAGE;
    }
    if (seeds < 0 || seeds > EXP_MAX_SEEDS) {
        fprintf(stderr, "suite run: --seeds must be 1 to %d (got %d)\n", EXP_MAX_SEEDS, seeds);
        return RUN_EXIT_USAGE;
    }
    if (jobs < 1 || jobs > MAX_JOBS) {
        fprintf(stderr, "suite run: --jobs must be 1 to %d training runs at once (got %d)\n",
                MAX_JOBS, jobs);
        return RUN_EXIT_USAGE;
    }
    return 0;
}

static int collect_all(const Experiment *es, int n, const RunnerOptions *o) {
    char err[1024];
    int rc = RUN_EXIT_FINISHED;
    for (int i = 0; i < n; i++)
        if (runner_collect(&es[i], o, err, sizeof err)) {
            fprintf(stderr, "suite run: %s\n", err);
            rc = RUN_EXIT_ERROR;
        }
    return rc;
}

int cmd_run(int argc, char **argv) {
    const char *scale_arg = "tiny", *device = NULL, *results = "results";
    int collect_only = 0, seeds = 0, jobs = 1;
    ArgSpec specs[] = {
        {"scale", ARG_STRING, &scale_arg, "S           paper | small | cpu | tiny (default tiny)"},
        {"device", ARG_STRING, &device,
         "D           cpu | cuda | auto, passed to every run (default: the trainer's auto)"},
        {"results", ARG_STRING, &results, "DIR         results folder (default results)"},
        {"seeds", ARG_INT, &seeds,
         "N           seed replicates of every run (default: the definition's, else 3 "
         "at small/tiny, 1 at paper)"},
        {"jobs", ARG_INT, &jobs,
         "N           training runs at once, 1 to 64 (default 1: one after another)"},
        {"collect", ARG_FLAG, &collect_only,
         "            only collect finished runs and redraw the figure"},
    };
    int n_specs = sizeof specs / sizeof specs[0], n_rest;
    const char **names = mallocCheck(argc * sizeof(char *));
    char **rest = mallocCheck(argc * sizeof(char *));
    int n_names = split_names(argc, argv, specs, n_specs, names, rest, &n_rest);
    int rc = args_parse(n_rest, rest, RUN_USAGE, specs, n_specs, NULL);
    Scale scale;
    if (rc) rc = rc == 1 ? 0 : rc;
    else if (!n_names) {
        fprintf(stderr, "suite run: which experiment? (`suite list` shows them)\n");
        rc = RUN_EXIT_USAGE;
    } else rc = check_options(scale_arg, &scale, seeds, jobs);
    char root[PATH_MAX], exe[PATH_MAX];
    experiment_root(root, sizeof root);
    ssize_t n = rc ? 0 : readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (!rc && n <= 0) {
        fprintf(stderr, "suite run: cannot find its own binary (/proc/self/exe)\n");
        rc = RUN_EXIT_ERROR;
    }
    Experiment *es = mallocCheck((n_names > 0 ? n_names : 1) * sizeof(Experiment));
    int n_exp = rc ? 0 : load_all(names, n_names, root, scale, seeds, es);
    if (n_exp < 0) rc = RUN_EXIT_USAGE;
    if (!rc) {
        exe[n] = '\0';
        RunnerOptions o = {
            .root = root, .results = results, .device = device, .exe = exe, .jobs = jobs};
        rc = collect_only ? collect_all(es, n_exp, &o) : runner_run_experiments(es, n_exp, &o);
    }
    for (int i = 0; i < n_exp; i++) experiment_free(&es[i]);
    free(es);
    free(names);
    free(rest);
    return rc;
}
