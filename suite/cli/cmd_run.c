// suite run EXPERIMENT: every run of one figure/table at one scale.
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/lab/experiment.h"
#include "suite/lab/experiment_run.h"
#include "suite/rundir.h"

static const char *RUN_USAGE =
    "usage: suite run EXPERIMENT [--scale paper|small|tiny] [--seeds N] [--device D]\n"
    "                 [--results DIR]\n\n"
    "Runs the training runs of experiments/EXPERIMENT.yaml one after another, each\n"
    "seed replicate in RESULTS/runs/EXPERIMENT/SCALE/RUN/seed-S/ (`suite train --seed\n"
    "S`), skipping runs that finished with the same configuration and resuming\n"
    "interrupted ones, then writes RESULTS/EXPERIMENT-SCALE/summary.csv (one row per\n"
    "seed), seeds.csv (mean and std per run) and the figure. `suite list` shows the\n"
    "experiments; `suite diff` compares the results with the paper.";

int cmd_run(int argc, char **argv) {
    const char *scale_arg = "tiny", *device = NULL, *results = "results", *name = NULL;
    int collect_only = 0, seeds = 0;
    ArgSpec specs[] = {
        {"scale", ARG_STRING, &scale_arg, "S           paper | small | tiny (default tiny)"},
        {"device", ARG_STRING, &device,
         "D           cpu | cuda | auto, passed to every run (default: the trainer's auto)"},
        {"results", ARG_STRING, &results, "DIR         results folder (default results)"},
        {"seeds", ARG_INT, &seeds,
         "N           seed replicates of every run (default: the definition's, else 3 "
         "at small/tiny, 1 at paper)"},
        {"collect", ARG_FLAG, &collect_only,
         "            only collect finished runs and redraw the figure"},
    };
    int rc = args_parse(argc, argv, RUN_USAGE, specs, sizeof specs / sizeof specs[0], &name);
    if (rc) return rc == 1 ? 0 : rc;
    if (!name) {
        fprintf(stderr, "suite run: which experiment? (`suite list` shows them)\n");
        return RUN_EXIT_USAGE;
    }
    Scale scale;
    if (scale_parse(scale_arg, &scale)) {
        fprintf(stderr, "suite run: --scale must be paper, small or tiny (got '%s')\n", scale_arg);
        return RUN_EXIT_USAGE;
    }
    char root[PATH_MAX], exe[PATH_MAX], err[1024];
    experiment_root(root, sizeof root);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "suite run: cannot find its own binary (/proc/self/exe)\n");
        return RUN_EXIT_ERROR;
    }
    exe[n] = '\0';
    Experiment e;
    if (experiment_load_by_name(root, name, scale, &e, err, sizeof err)) {
        fprintf(stderr, "suite run: %s\n", err);
        return RUN_EXIT_USAGE;
    }
    if (seeds < 0 || seeds > EXP_MAX_SEEDS) {
        fprintf(stderr, "suite run: --seeds must be 1 to %d (got %d)\n", EXP_MAX_SEEDS, seeds);
        experiment_free(&e);
        return RUN_EXIT_USAGE;
    }
    if (seeds) experiment_set_seeds(&e, seeds);
    RunnerOptions o = {.root = root, .results = results, .device = device, .exe = exe};
    if (collect_only) {
        rc = runner_collect(&e, &o, err, sizeof err) ? RUN_EXIT_ERROR : RUN_EXIT_FINISHED;
        if (rc) fprintf(stderr, "suite run: %s\n", err);
    } else {
        rc = runner_run_experiment(&e, &o);
    }
    experiment_free(&e);
    return rc;
}
