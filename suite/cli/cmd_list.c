// suite list: the experiments, their runs and what each costs at every scale.
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/lab/experiment.h"

// GPU-hours assume 40% MFU of an A100's 312 TFLOP/s bf16 peak (the paper's GPUs):
// a typical sustained rate for models of this size in mixed precision.
#define ASSUMED_MFU 0.40
#define A100_BF16_FLOPS 312e12

static const char *LIST_USAGE =
    "usage: suite list [EXPERIMENT] [--scale S] [--runs]\n\n"
    "Lists the experiments (experiments/*.yaml) with their training runs (every seed\n"
    "replicate counts) and their tokens and estimated cost at each scale: GPU-hours at\n"
    "40% MFU of an A100 (312 TFLOP/s bf16) for paper and small. --runs (or naming one\n"
    "experiment) lists every run with its seed replicates (x3), model and settings.";

typedef struct {
    double tokens, flops;
    int unknown_models;
} Cost;

static Cost cost_of(const RunSpec *r) {
    Cost c = {0};
    c.unknown_models = run_cost(r, &c.tokens, &c.flops) != 0;
    return c;
}

// The options a run sets besides those print_runs shows in columns (the seed is
// the replicates' column).
static void print_other_options(const RunSpec *r) {
    static const char *const shown[] = {"model", "steps", "batch", "precision", "seed"};
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        char key[64];
        int in_columns = 0;
        train_option_key(&TRAIN_OPTIONS[i], key, sizeof key);
        for (int k = 0; k < 5; k++) in_columns |= !strcmp(key, shown[k]);
        if (!in_columns && r->values[i][0]) printf(" %s=%s", key, r->values[i]);
    }
}

static void fmt_count(char *buf, size_t len, double v) {
    if (v >= 1e9) snprintf(buf, len, "%.1fB", v / 1e9);
    else if (v >= 1e6) snprintf(buf, len, "%.1fM", v / 1e6);
    else snprintf(buf, len, "%.0fK", v / 1e3);
}

static void fmt_cost(char *buf, size_t len, Scale s, const Cost *c) {
    char tok[32];
    fmt_count(tok, sizeof tok, c->tokens);
    double gpu_h = c->flops / (ASSUMED_MFU * A100_BF16_FLOPS) / 3600;
    if (s == SCALE_TINY) snprintf(buf, len, "%s tok (CPU)", tok);
    else if (gpu_h >= 10) snprintf(buf, len, "%s tok, %.0f GPU-h", tok, gpu_h);
    else if (gpu_h >= 1) snprintf(buf, len, "%s tok, %.1f GPU-h", tok, gpu_h);
    else snprintf(buf, len, "%s tok, %.1f GPU-min", tok, gpu_h * 60);
    if (c->unknown_models)
        snprintf(buf + strlen(buf), len - strlen(buf), " (+%d unknown)", c->unknown_models);
}

// One line per run with its seed replicates ("x3") and the cost of all of them.
static void print_runs(const Experiment *e) {
    for (int i = 0; i < e->n_runs; i++) {
        const RunSpec *r = &e->runs[i];
        if (r->replicate) continue;
        Cost c = cost_of(r);
        c.tokens *= r->n_seeds;
        c.flops *= r->n_seeds;
        char cost[64], seeds[16];
        fmt_cost(cost, sizeof cost, e->scale, &c);
        snprintf(seeds, sizeof seeds, "x%d", r->n_seeds);
        const char *precision = run_value(r, "precision");
        printf("    %-24s %-3s %-22s %7s steps x %-3s %-5s", r->name, seeds, run_value(r, "model"),
               run_value(r, "steps"), run_value(r, "batch"), precision ? precision : "");
        print_other_options(r);
        printf("  %s\n", cost);
    }
}

int cmd_list(int argc, char **argv) {
    const char *scale_arg = NULL, *only = NULL;
    int show_runs = 0;
    ArgSpec specs[] = {
        {"scale", ARG_STRING, &scale_arg, "S           only this scale (paper, small, tiny)"},
        {"runs", ARG_FLAG, &show_runs, "            list every run"},
    };
    int rc = args_parse(argc, argv, LIST_USAGE, specs, sizeof specs / sizeof specs[0], &only);
    if (rc) return rc == 1 ? 0 : rc;
    Scale only_scale = SCALE_PAPER;
    if (scale_arg && scale_parse(scale_arg, &only_scale)) {
        fprintf(stderr, "suite list: --scale must be paper, small or tiny (got '%s')\n", scale_arg);
        return 2;
    }
    char root[PATH_MAX], names[64][EXP_NAME_LEN], err[1024];
    experiment_root(root, sizeof root);
    int n = experiment_list_names(root, names, 64);
    if (n < 0) {
        fprintf(stderr, "suite list: cannot read %s/experiments\n", root);
        return 1;
    }
    if (only) {
        n = 1;
        snprintf(names[0], EXP_NAME_LEN, "%s", only);
        show_runs = 1;
    }
    printf("%-18s %-6s %5s  %s\n", "experiment", "scale", "runs",
           "cost (tokens; GPU-hours at 40% MFU of an A100)");
    int status = 0;
    for (int i = 0; i < n; i++)
        for (int s = 0; s < N_SCALES; s++) {
            if (scale_arg && s != (int)only_scale) continue;
            Experiment e;
            if (experiment_load_by_name(root, names[i], (Scale)s, &e, err, sizeof err)) {
                fprintf(stderr, "suite list: %s\n", err);
                status = 1;
                break;
            }
            Cost total = {0};
            for (int r = 0; r < e.n_runs; r++) {
                Cost c = cost_of(&e.runs[r]);
                total.tokens += c.tokens;
                total.flops += c.flops;
                total.unknown_models += c.unknown_models;
            }
            char cost[64];
            fmt_cost(cost, sizeof cost, (Scale)s, &total);
            printf("%-18s %-6s %5d  %s\n", s == 0 || scale_arg ? names[i] : "", scale_name(s),
                   e.n_runs, cost);
            if (show_runs) print_runs(&e);
            experiment_free(&e);
        }
    return status;
}
