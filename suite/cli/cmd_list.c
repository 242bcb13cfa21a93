// suite list: the experiments, their runs and what each costs at every scale.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/base/check.h"
#include "kernels/gemm.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/lab/experiment.h"
#include "suite/lab/experiment_run.h"
#include "suite/timefmt.h"

// GPU-hours assume 40% MFU of an A100's 312 TFLOP/s bf16 peak (the paper's GPUs):
// a typical sustained rate for models of this size in mixed precision.
#define ASSUMED_MFU 0.40
#define A100_BF16_FLOPS 312e12

// CPU scales are costed in hours on this machine: one core's 512^3 sgemm rate is
// measured on the spot, and a training step at the cpu shapes (d = 64, V = 8192,
// 32 x 64 tokens, one thread, two runs side by side) runs at CPU_STEP_EFFICIENCY
// of it, evals and start-up included. Calibrated on the committed cpu run
// (results/report-cpu.md): its fp32 runs took 1.13x (dense) to 1.31x (TC) the
// time a 0.55 efficiency predicts, 1.22x on average. On the CPU, mixed and bf16
// round every operand to bf16 in a copy: a step costs CPU_EMULATED_BF16_COST
// fp32 steps (MoT/32E: 300 steps in 233 s vs 70 s). Downstream scoring runs
// forward passes of a whole batch per choice, at half a training step's
// efficiency (cpu run: 600 examples in about 210 s). `suite run --jobs` trains
// one run per core; scoring runs while the other core trains.
#define CPU_STEP_EFFICIENCY 0.45
#define CPU_EMULATED_BF16_COST 3.3
#define CPU_DOWNSTREAM_COST 2.0
#define DOWNSTREAM_CHOICES 3  // PIQA 2, ARC-Easy about 4, HellaSwag 4

static const char *LIST_USAGE =
    "usage: suite list [EXPERIMENT] [--scale S] [--runs]\n\n"
    "Lists the experiments (experiments/*.yaml) with their training runs (every seed\n"
    "replicate counts) and their tokens and estimated cost at each scale: GPU-hours at\n"
    "40% MFU of an A100 (312 TFLOP/s bf16) for paper and small; for cpu and tiny,\n"
    "minutes on one core of this machine, and the wall time of all experiments\n"
    "with one run per core (runs two experiments share are counted once). --runs\n"
    "(or naming one experiment) lists every run with its seed replicates (x3),\n"
    "model and settings.";

typedef struct {
    double tokens, flops;
    int unknown_models;
} Cost;

// Downstream scoring of run's checkpoint, in training FLOPs (CPU scales only).
static double downstream_flops(const Experiment *e, const RunSpec *r) {
    double tokens, flops;
    if (!scale_info(e->scale)->on_cpu || run_cost(r, &tokens, &flops) || tokens <= 0) return 0;
    double batch_tokens = tokens / run_number(r, "steps"), examples = e->n_tasks * (double)e->downstream_limit;
    return examples * DOWNSTREAM_CHOICES * batch_tokens * (flops / tokens) / 3 * CPU_DOWNSTREAM_COST;
}

// Training plus evaluation (forward passes: a third of a training token's FLOPs)
// and, with_downstream, scoring. On a CPU scale, FLOPs as fp32 steps would take them.
static Cost cost_of(const Experiment *e, const RunSpec *r, int with_downstream) {
    Cost c = {0};
    c.unknown_models = run_cost(r, &c.tokens, &c.flops) != 0;
    long steps = run_number(r, "steps"), every = run_number(r, "eval_every");
    long batches = run_value(r, "eval_batches") ? run_number(r, "eval_batches") : 10;
    if (c.tokens <= 0 || steps <= 0) return c;
    double per_token = c.flops / c.tokens, batch_tokens = c.tokens / steps;
    double evals = (every > 0 ? steps / every : 10) + 1;
    c.flops += evals * batches * batch_tokens * per_token / 3;
    if (!scale_info(e->scale)->on_cpu) return c;
    const char *precision = run_value(r, "precision");
    if (precision && strcmp(precision, "fp32")) c.flops *= CPU_EMULATED_BF16_COST;
    if (with_downstream) c.flops += downstream_flops(e, r);
    return c;
}

// Seconds one core of this machine takes for flops of cpu-scale training.
static double cpu_seconds(double flops) {
    static double core_flops;
    if (core_flops == 0) {
        int saved = blas_threads_serial_begin();
        core_flops = gemm_measure_gflops(512, 512, 512, 0.25) * 1e9;
        blas_threads_serial_end(saved);
    }
    return flops / (core_flops * CPU_STEP_EFFICIENCY);
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
    if (scale_info(s)->on_cpu) {
        char t[32];
        format_duration(t, sizeof t, cpu_seconds(c->flops));
        snprintf(buf, len, "%s tok, %s on one core", tok, t);
    } else if (gpu_h >= 10) snprintf(buf, len, "%s tok, %.0f GPU-h", tok, gpu_h);
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
        Cost c = cost_of(e, r, 1);
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

// Every run of every experiment at a CPU scale, each run key once (a run two
// experiments share is trained once): the wall time with one run per core.
static void print_cpu_total(const char *root, char names[][EXP_NAME_LEN], int n, Scale s) {
    char (*keys)[17] = NULL, err[1024];
    int n_keys = 0, n_runs = 0;
    double seconds = 0, longest = 0;
    for (int i = 0; i < n; i++) {
        Experiment e;
        if (experiment_load_by_name(root, names[i], s, &e, err, sizeof err)) continue;
        for (int r = 0; r < e.n_runs; r++, n_runs++) {
            char key[17];
            runner_run_key(TRAIN_OPTIONS, N_TRAIN_OPTIONS, e.runs[r].values, e.runs[r].data, key);
            seconds += cpu_seconds(downstream_flops(&e, &e.runs[r]));  // scored per experiment
            int seen = 0;
            for (int k = 0; k < n_keys && !seen; k++) seen = !strcmp(keys[k], key);
            if (seen) continue;
            keys = realloc(keys, (size_t)(n_keys + 1) * sizeof *keys);
            if (!keys) die("out of memory");
            memcpy(keys[n_keys++], key, 17);
            double t = cpu_seconds(cost_of(&e, &e.runs[r], 0).flops);
            seconds += t;
            if (t > longest) longest = t;
        }
        experiment_free(&e);
    }
    free(keys);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    double wall = seconds / cores > longest ? seconds / cores : longest;
    char one[32], all[32];
    format_duration(one, sizeof one, seconds);
    format_duration(all, sizeof all, wall);
    printf("%s scale, all listed: %d runs, %d to train (the rest shared); %s on one core, "
           "about %s with --jobs %ld\n",
           scale_name(s), n_runs, n_keys, one, all, cores);
}

int cmd_list(int argc, char **argv) {
    const char *scale_arg = NULL, *only = NULL;
    int show_runs = 0;
    ArgSpec specs[] = {
        {"scale", ARG_STRING, &scale_arg, "S           only this scale (" SCALE_CHOICES ")"},
        {"runs", ARG_FLAG, &show_runs, "            list every run"},
    };
    int rc = args_parse(argc, argv, LIST_USAGE, specs, sizeof specs / sizeof specs[0], &only);
    if (rc) return rc == 1 ? 0 : rc;
    Scale only_scale = SCALE_PAPER;
    if (scale_arg && scale_parse(scale_arg, &only_scale)) {
        fprintf(stderr, "suite list: --scale must be " SCALE_CHOICES " (got '%s')\n", scale_arg);
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
                Cost c = cost_of(&e, &e.runs[r], 1);
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
    if (scale_arg && scale_info(only_scale)->on_cpu && !status)
        print_cpu_total(root, names, n, only_scale);
    return status;
}
