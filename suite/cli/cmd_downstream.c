// suite downstream: zero-shot PIQA / ARC-Easy / HellaSwag accuracy of a checkpoint.
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "impls/checkpoint.h"
#include "impls/model.h"
#include "kernels/common.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/csvio.h"
#include "suite/trainer/device.h"
#include "suite/lab/downstream.h"
#include "suite/paths.h"
#include "suite/rundir.h"

static const char *USAGE =
    "usage: suite downstream --ckpt PATH [--task piqa|arc-easy|hellaswag]... [--data DIR]\n"
    "                        [--limit N] [--out CSV]\n\n"
    "Zero-shot accuracy by log-likelihood of each choice after end-of-text + context:\n"
    "acc, and acc_norm (per character of the choice, leading space not counted), each\n"
    "with its binomial standard error; 'published' names the one the paper reports\n"
    "(acc for PIQA and ARC-Easy, acc_norm for HellaSwag).\n"
    "As in the paper, each query sits in a random row of a batch of 32 whose other rows\n"
    "are C4 train sequences, so MoT has a group; a model whose rows never interact\n"
    "(dense) scores 32 queries per forward instead (the numbers are the same).\n"
    "DIR is laid out like datasets/downstream (piqa/, arc_easy/); default\n"
    "$MOT_DOWNSTREAM_DIR, else datasets/downstream (shipped: PIQA validation, ARC-Easy\n"
    "test), else ../shared/data/downstream beside the checkout. HellaSwag is not shipped:\n"
    "put hellaswag_val.jsonl in DIR/hellaswag/ or set MOT_HELLASWAG=FILE; without it the\n"
    "task is reported as not run. Exits 1 when no task could be scored.";

static void model_logprobs(void *model, const int *tokens, const int *targets, float *logp) {
    model_token_logprobs(model, tokens, targets, logp);
}

typedef struct {
    const Dataset *ds;
    Packer packer;
    int B, T;
    int *targets;  // (B,T) scratch: the filler's own targets are not needed
} Filler;

static void c4_filler(void *source, int *tokens) {
    Filler *f = source;
    dataset_sample_batch(f->ds, &f->packer, f->B, f->T, tokens, f->targets);
}

// The sequence length the run trained with (config.json beside the checkpoint),
// else 0.
static int trained_seq_len(const char *ckpt) {
    char path[PATH_MAX];
    const char *slash = strrchr(ckpt, '/');
    snprintf(path, sizeof path, "%.*s" RUNDIR_CONFIG, slash ? (int)(slash - ckpt + 1) : 0, ckpt);
    json_t *j = json_load_file(path, 0, NULL);
    int T = j ? (int)json_integer_value(json_object_get(j, CONFIG_SEQ_LEN)) : 0;
    json_decref(j);
    return T;
}

typedef struct {
    const char *ckpt, *data, *out_csv, *device, *filler_spec;
    int limit, T, B;
    uint64_t seed;
    ArgList tasks;
    char data_default[PATH_MAX], filler_default[PATH_MAX];
} DownstreamArgs;

// 0 to go on, or -1 to stop with *exit_code (0 after --help).
static int parse_args(int argc, char **argv, DownstreamArgs *a, int *exit_code) {
    ArgSpec specs[] = {
        {"ckpt", ARG_STRING, &a->ckpt, "PATH        checkpoint (.safetensors)"},
        {"task", ARG_LIST, &a->tasks,
         "T           piqa | arc-easy | hellaswag (repeatable; default all)"},
        {"data", ARG_STRING, &a->data, "DIR         task data folder (see above)"},
        {"limit", ARG_INT, &a->limit, "N           first N examples per task (default all)"},
        {"seq-len", ARG_INT, &a->T, "T           tokens per row (default: the run's training length)"},
        {"batch", ARG_INT, &a->B, "B           rows per batch (default 32; raised to a multiple of G)"},
        {"filler", ARG_STRING, &a->filler_spec,
         "SPEC        C4 train data for the other rows (default: bundled sample)"},
        {"seed", ARG_U64, &a->seed, "S           query rows and filler text (default 1)"},
        {"device", ARG_STRING, &a->device, "D           cpu | cuda | auto"},
        {"out", ARG_STRING, &a->out_csv, "CSV         write one row per task (suite/rundir.h DOWNSTREAM_COLS)"},
    };
    int rc = args_parse(argc, argv, USAGE, specs, sizeof specs / sizeof specs[0], NULL);
    *exit_code = rc == 1 ? RUN_EXIT_FINISHED : RUN_EXIT_USAGE;
    if (rc) return -1;
    if (!a->ckpt) {
        fprintf(stderr, "suite downstream: --ckpt PATH is required\n");
        return -1;
    }
    if (a->limit < 0 || a->B < 1 || a->T < 0) {
        fprintf(stderr, "suite downstream: --limit, --batch and --seq-len must be positive\n");
        return -1;
    }
    for (int i = 0; i < a->tasks.count; i++)
        if (mc_task_index(a->tasks.items[i]) < 0) {
            fprintf(stderr, "suite downstream: unknown task '%s' (" MC_TASK_NAMES ")\n",
                    a->tasks.items[i]);
            return -1;
        }
    if (a->tasks.count == 0)
        for (int i = 0; i < MC_N_TASKS; i++) a->tasks.items[a->tasks.count++] = mc_task_name(i);
    const char *given = a->data;
    if (!a->data) {
        mc_default_data_dir(a->data_default, sizeof a->data_default);
        a->data = a->data_default;
    }
    struct stat st;
    if (stat(a->data, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "suite downstream: task data folder %s is missing: %s\n", a->data,
                given ? "check --data DIR" : "set MOT_DOWNSTREAM_DIR or pass --data DIR");
        return -1;
    }
    if (!a->filler_spec) {
        suite_path(a->filler_default, sizeof a->filler_default,
                   "datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl");
        a->filler_spec = a->filler_default;
    }
    return 0;
}

static void write_row(FILE *out, const char *const fields[N_DOWNSTREAM_COLS]) {
    if (out) csv_write_row(out, N_DOWNSTREAM_COLS, fields);
}

// One task's line on stdout and row in out: acc and acc_norm with their standard
// errors, in percent.
static void report_score(const char *name, const McScore *score, FILE *out) {
    double se = 100 * mc_binomial_se(score->correct, score->examples);
    double se_norm = 100 * mc_binomial_se(score->correct_norm, score->examples);
    double acc = 100.0 * score->correct / score->examples;
    double acc_norm = 100.0 * score->correct_norm / score->examples;
    printf("%-10s %8d %6.1f ±%4.1f %9.1f ±%4.1f  %s\n", name, score->examples, acc, se, acc_norm,
           se_norm, mc_published_metric(name));
    char f[N_DOWNSTREAM_COLS][24];
    snprintf(f[DOWNSTREAM_EXAMPLES], 24, "%d", score->examples);
    snprintf(f[DOWNSTREAM_ACC], 24, "%.2f", acc);
    snprintf(f[DOWNSTREAM_ACC_SE], 24, "%.2f", se);
    snprintf(f[DOWNSTREAM_ACC_NORM], 24, "%.2f", acc_norm);
    snprintf(f[DOWNSTREAM_ACC_NORM_SE], 24, "%.2f", se_norm);
    const char *row[N_DOWNSTREAM_COLS] = {
        [DOWNSTREAM_TASK] = name,           [DOWNSTREAM_EXAMPLES] = f[DOWNSTREAM_EXAMPLES],
        [DOWNSTREAM_ACC] = f[DOWNSTREAM_ACC], [DOWNSTREAM_ACC_SE] = f[DOWNSTREAM_ACC_SE],
        [DOWNSTREAM_ACC_NORM] = f[DOWNSTREAM_ACC_NORM],
        [DOWNSTREAM_ACC_NORM_SE] = f[DOWNSTREAM_ACC_NORM_SE],
        [DOWNSTREAM_PUBLISHED] = mc_published_metric(name), [DOWNSTREAM_STATUS] = "ok"};
    write_row(out, row);
}

// Score every task: a line on stdout and a row in out (when given) each. Returns
// how many tasks were scored.
static int score_tasks(const DownstreamArgs *a, const McScorer *scorer, TokenizerSession *session,
                       FILE *out) {
    write_row(out, DOWNSTREAM_COLS);
    // "±" is two bytes: its fields are one wider than the five columns they fill.
    printf("%-10s %8s %6s %6s %9s %6s  %s\n", "task", "examples", "acc", "±se", "acc_norm", "±se",
           "published");
    int scored = 0;
    for (int i = 0; i < a->tasks.count; i++) {
        const char *name = a->tasks.items[i];
        char path[PATH_MAX], why[512];
        McTask task;
        if (mc_task_path(name, a->data, path, sizeof path, why, sizeof why) ||
            mc_task_load(name, path, a->limit, &task, why, sizeof why)) {
            printf("%-10s %8s %s\n", name, "-", "not run");
            fprintf(stderr, "suite downstream: %s\n", why);
            const char *row[N_DOWNSTREAM_COLS] = {
                [DOWNSTREAM_TASK] = name, [DOWNSTREAM_EXAMPLES] = "0", [DOWNSTREAM_ACC] = "",
                [DOWNSTREAM_ACC_SE] = "", [DOWNSTREAM_ACC_NORM] = "", [DOWNSTREAM_ACC_NORM_SE] = "",
                [DOWNSTREAM_PUBLISHED] = mc_published_metric(name), [DOWNSTREAM_STATUS] = "not run"};
            write_row(out, row);
            continue;
        }
        McScore score;
        mc_score(scorer, session, &task, &score);
        report_score(name, &score, out);
        mc_task_free(&task);
        scored++;
    }
    return scored;
}

int cmd_downstream(int argc, char **argv) {
    DownstreamArgs a = {.device = "auto", .B = 32, .seed = 1};
    int rc;
    if (parse_args(argc, argv, &a, &rc)) return rc;
    char err[1024];
    ModelConfig cfg;
    Model m = {0};
    Dataset *ds = NULL;
    Tokenizer *tok = NULL;
    TokenizerSession *session = NULL;
    FILE *out = NULL;
    Filler filler = {0};
    int T = a.T, B = a.B;
    rc = RUN_EXIT_ERROR;
    const Ops *ops = device_select(a.device, err, sizeof err);
    if (!ops || checkpoint_read_config(a.ckpt, &cfg, err, sizeof err)) goto done;
    if (T == 0) T = trained_seq_len(a.ckpt);
    if (T <= 0 || T > cfg.max_seq_len) T = cfg.max_seq_len;
    int G = model_batch_multiple(&cfg);
    if (B % G) B += G - B % G;  // MoT-Base/64E/16 needs 64 rows
    if (model_create(&m, &cfg, ops, PREC_FP32, 0, err, sizeof err) ||
        model_reserve(&m, B, T, err, sizeof err) ||
        checkpoint_load(a.ckpt, &m, NULL, err, sizeof err))
        goto done;
    if (!(tok = tokenizer_open(NULL, cfg.vocab_size, err, sizeof err))) goto done;
    session = tokenizer_session_new(tok);
    int dense = model_rows_independent(&cfg);
    filler.B = B;
    filler.T = T;
    if (!dense) {
        DatasetOptions dopt = {.quiet = 1, .vocab_size = cfg.vocab_size};
        if (!(ds = dataset_open(a.filler_spec, &dopt, err, sizeof err))) goto done;
        filler.ds = ds;
        packer_init(&filler.packer, a.seed, 0);
        filler.targets = mallocCheck((size_t)B * T * sizeof(int));
    }
    McScorer scorer = {.B = B,
                       .T = T,
                       .logprobs = model_logprobs,
                       .model = &m,
                       .filler = dense ? NULL : c4_filler,
                       .filler_source = &filler,
                       .seed = a.seed,
                       .eot = tokenizer_eot(tok)};
    if (a.out_csv && !(out = fopen(a.out_csv, "w"))) {
        snprintf(err, sizeof err, "%s: cannot write", a.out_csv);
        goto done;
    }
    printf("%s | %d x %d per batch | %s\n", cfg.name, B, T,
           dense ? "rows independent: a query per row" : "one query per batch, C4 train filler rows");
    if (score_tasks(&a, &scorer, session, out) == 0) {
        snprintf(err, sizeof err, "no task could be scored (the reasons are above)");
        goto done;
    }
    rc = RUN_EXIT_FINISHED;
done:
    if (rc) fprintf(stderr, "suite downstream: %s\n", err);
    if (out && fclose(out) && !rc) {
        fprintf(stderr, "suite downstream: %s: write failed\n", a.out_csv);
        rc = RUN_EXIT_ERROR;
    }
    free(filler.targets);
    if (session) tokenizer_session_free(session);
    if (tok) tokenizer_free(tok);
    if (ds) dataset_close(ds);
    if (m.ops) model_free(&m);
    return rc;
}
