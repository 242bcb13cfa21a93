// suite train: one model, one run directory.
#include <stdio.h>
#include <string.h>

#include "impls/checkpoint.h"
#include "impls/model.h"
#include "suite/args.h"
#include "suite/commands.h"
#include "suite/paths.h"
#include "suite/train.h"

enum { PATH_LEN = 1024 };

// Defaults that depend on where the suite lives: the bundled genuine C4 samples.
static void default_data(char *train, char *val) {
    suite_path(train, PATH_LEN, "datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl");
    suite_path(val, PATH_LEN, "datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz");
}

static const char *TRAIN_USAGE =
    "usage: suite train --model NAME [options]\n\n"
    "Trains one model (SPEC §4: AdamW, warmup + cosine LR, clipping) and writes its run\n"
    "directory: config.json, metrics.csv, eval.csv, layers.csv, status.json,\n"
    "ckpt.safetensors. Exit status 0 finished, 3 diverged, 1 error, 2 usage.";

static const char *TRANSITION_USAGE =
    "usage: suite transition --from CKPT --out DIR --steps N [train options]\n\n"
    "Transition tuning (SPEC §2): loads a MoT checkpoint with its AdamW state, converts\n"
    "every MoT layer to Token Choice with the same weights (expert e -> expert e,\n"
    "controller -> router), logs the eval loss in both modes at the switch and\n"
    "continues training to step N on the same LR schedule.";

// Parse train options; init_from is the transition's source checkpoint or NULL.
static int train_command(int argc, char **argv, const char *usage, const char *init_from) {
    TrainOptions o;
    train_options_default(&o);
    char train_path[PATH_LEN], val_path[PATH_LEN], out_default[PATH_LEN];
    default_data(train_path, val_path);
    o.train_data = train_path;
    o.val_data = val_path;
    const char *precision = NULL;
    ArgList tags = {0};
    int list = 0;
    ArgSpec specs[] = {
        {"model", ARG_STRING, &o.model, "NAME        model (suite params --list shows the names)"},
        {"out", ARG_STRING, &o.out_dir, "DIR         run directory (default results/runs/<model>)"},
        {"steps", ARG_INT, &o.steps, "N           optimizer steps (default 100)"},
        {"batch", ARG_INT, &o.batch, "B           global batch in sequences (default 32)"},
        {"seq-len", ARG_INT, &o.seq_len, "T           sequence length (default: model context)"},
        {"accum", ARG_INT, &o.accum, "K           gradient accumulation micro-steps (default 1)"},
        {"lr", ARG_FLOAT, &o.lr, "X           peak learning rate (default: the model's SPEC LR)"},
        {"warmup", ARG_INT, &o.warmup, "N           warmup steps (default min(2500, steps/10))"},
        {"final-lr-frac", ARG_FLOAT, &o.final_lr_frac, "F     cosine floor as a fraction of peak (0.1)"},
        {"weight-decay", ARG_FLOAT, &o.weight_decay, "W      AdamW decoupled weight decay (0.1)"},
        {"clip", ARG_FLOAT, &o.clip, "C           global gradient-norm clip (0.5)"},
        {"seed", ARG_U64, &o.seed, "S           initialisation and data seed (1)"},
        {"eval-every", ARG_INT, &o.eval_every, "N      eval interval in steps (default steps/10)"},
        {"eval-batches", ARG_INT, &o.eval_batches, "N    validation batches per eval (10)"},
        {"ckpt-every", ARG_INT, &o.ckpt_every, "N      checkpoint interval (default: every eval)"},
        {"log-every", ARG_INT, &o.log_every, "N       progress line interval (1)"},
        {"train-data", ARG_STRING, &o.train_data, "SPEC  C4 shard file, directory, glob or .tok (default: bundled C4 train sample)"},
        {"val-data", ARG_STRING, &o.val_data, "SPEC    validation data (default: bundled C4 validation sample)"},
        {"skip-bad", ARG_FLAG, &o.skip_bad, "       count and skip malformed lines / corrupt gzip members in the data"},
        {"precision", ARG_STRING, &precision, "P      fp32 | mixed | bf16 (default fp32 on cpu, mixed on cuda)"},
        {"device", ARG_STRING, &o.device, "D         cpu | cuda | auto (default auto)"},
        {"resume", ARG_FLAG, &o.resume, "           continue from DIR/ckpt.safetensors when it exists"},
        {"stop-after", ARG_INT, &o.stop_after, "N     leave after step N as if interrupted (resume later)"},
        {"transition-at", ARG_INT, &o.transition_at, "S  MoT only: convert to Token Choice at step S"},
        {"moe-from", ARG_INT, &o.moe_from, "L       first block with the MoE/MoT FF (default: later half)"},
        {"comm-timeout", ARG_FLOAT, &o.comm_timeout, "S    end the job when a collective takes longer (600)"},
        {"shared-stream", ARG_FLAG, &o.shared_stream, "    all ranks draw one global batch stream (exact multi-rank equivalence)"},
        {"tag", ARG_LIST, &tags, "KEY=VALUE    recorded in config.json (repeatable)"},
        {"quiet", ARG_FLAG, &o.quiet, "            no progress lines"},
        {"list", ARG_FLAG, &list, "             list model names and exit"},
        {"from", ARG_STRING, &init_from, "CKPT         (transition) the MoT checkpoint to convert"},
    };
    int n_specs = sizeof specs / sizeof specs[0] - (init_from ? 0 : 1);
    int rc = args_parse(argc, argv, usage, specs, n_specs, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (list) {
        model_list_names(stdout);
        return 0;
    }
    Precision p;
    if (precision && precision_parse(precision, &p)) {
        fprintf(stderr, "suite train: --precision must be fp32, mixed or bf16 (got '%s')\n", precision);
        return 2;
    }
    if (precision) o.precision = (int)p;
    for (int i = 0; i < tags.count; i++) {
        if (!strchr(tags.items[i], '=')) {
            fprintf(stderr, "suite train: --tag expects KEY=VALUE (got '%s')\n", tags.items[i]);
            return 2;
        }
        o.tags[o.n_tags++] = tags.items[i];
    }
    ModelConfig from_cfg;
    char err[1024];
    if (init_from && *init_from) {
        if (checkpoint_read_config(init_from, &from_cfg, err, sizeof err)) {
            fprintf(stderr, "suite transition: %s\n", err);
            return 1;
        }
        o.init_from = init_from;
        o.model = from_cfg.name;
        o.transition_at = TRANSITION_AT_START;
    }
    if (!o.model) {
        fprintf(stderr, "suite %s: --model is required (see --help; --list shows the names)\n", argv[0]);
        return 2;
    }
    if (!o.out_dir) {
        char name[MODEL_NAME_LEN];
        snprintf(name, sizeof name, "%s", o.model);
        for (char *c = name; *c; c++)
            if (*c == '/') *c = '_';
        snprintf(out_default, sizeof out_default, "results/runs/%s", name);
        o.out_dir = out_default;
    }
    return train_run(&o);
}

int cmd_train(int argc, char **argv) { return train_command(argc, argv, TRAIN_USAGE, NULL); }

int cmd_transition(int argc, char **argv) {
    const char *from = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--from")) from = argv[i + 1];
    int wants_help = 0;
    for (int i = 1; i < argc; i++) wants_help |= !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
    if (!from && !wants_help) {
        fprintf(stderr, "suite transition: --from CKPT is required (see --help)\n");
        return 2;
    }
    return train_command(argc, argv, TRANSITION_USAGE, from ? from : "");
}
