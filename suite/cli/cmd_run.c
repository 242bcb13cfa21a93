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
    "usage: suite run EXPERIMENT [--scale paper|small|tiny] [--device D] [--results DIR]\n\n"
    "Runs the training runs of experiments/EXPERIMENT.yaml one after another (`suite\n"
    "train` in RESULTS/runs/EXPERIMENT/SCALE/RUN/), skipping runs that finished with the\n"
    "same configuration and resuming interrupted ones, then writes\n"
    "RESULTS/EXPERIMENT-SCALE/summary.csv and the figure. `suite list` shows the\n"
    "experiments; `suite diff` compares the results with the paper.";

int cmd_run(int argc, char **argv) {
    const char *scale_arg = "tiny", *device = NULL, *results = "results", *name = NULL;
    int collect_only = 0;
    ArgSpec specs[] = {
        {"scale", ARG_STRING, &scale_arg, "S           paper | small | tiny (default tiny)"},
        {"device", ARG_STRING, &device,
         "D           cpu | cuda | auto, passed to every run (default: the trainer's auto)"},
        {"results", ARG_STRING, &results, "DIR         results folder (default results)"},
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
