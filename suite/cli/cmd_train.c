// suite train: one model, one run directory.
#include <stdio.h>
#include <string.h>

#include "impls/checkpoint.h"
#include "impls/model.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/rundir.h"
#include "suite/trainer/train.h"

enum { PATH_LEN = 1024, HELP_LEN = 160 };

static const char *TRAIN_USAGE =
    "usage: suite train --model NAME [options]\n\n"
    "Trains one model (SPEC §4: AdamW, warmup + cosine LR, clipping) and writes its run\n"
    "directory: config.json, metrics.csv, eval.csv, layers.csv, status.json,\n"
    "ckpt.safetensors (suite/rundir.h). Exit status 0 finished, 3 diverged, 1 error, 2 usage.";

static const char *TRANSITION_USAGE =
    "usage: suite transition --from CKPT --out DIR --steps N [train options]\n\n"
    "Transition tuning (SPEC §2): loads a MoT checkpoint with its AdamW state, converts\n"
    "every MoT layer to Token Choice with the same weights (expert e -> expert e,\n"
    "controller -> router), logs the eval loss in both modes at the switch and\n"
    "continues training to step N on the same LR schedule.";

static int set_option(void *ctx, int index, const char *value, char *why, size_t whylen) {
    return train_option_set(ctx, &TRAIN_OPTIONS[index], value, why, whylen);
}

// One ArgSpec per row of the option table; help gets the default appended.
static int option_specs(TrainOptions *o, ArgSpec *specs, ArgCall *calls, char (*help)[HELP_LEN]) {
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const TrainOption *opt = &TRAIN_OPTIONS[i];
        calls[i] = (ArgCall){set_option, o, i};
        int n = snprintf(help[i], HELP_LEN, "%-6s %s", opt->meta, opt->help);
        if (opt->fallback && opt->type != OPT_FLAG && n < HELP_LEN)
            snprintf(help[i] + n, HELP_LEN - n, " (default %s)", opt->fallback);
        ArgType type = opt->type == OPT_FLAG ? ARG_CALL_FLAG : ARG_CALL;
        specs[i] = (ArgSpec){opt->name, type, &calls[i], help[i]};
    }
    return N_TRAIN_OPTIONS;
}

// Parse train options; init_from is the transition's source checkpoint or NULL.
static int train_command(int argc, char **argv, const char *usage, const char *init_from) {
    TrainOptions o;
    train_options_default(&o);
    char out_default[PATH_LEN], help[TRAIN_OPTIONS_MAX][HELP_LEN];
    ArgList tags = {0};
    int list = 0;
    ArgSpec specs[TRAIN_OPTIONS_MAX + 3];
    ArgCall calls[TRAIN_OPTIONS_MAX];
    int n = option_specs(&o, specs, calls, help);
    specs[n++] = (ArgSpec){"tag", ARG_LIST, &tags, "KEY=VALUE recorded in config.json (repeatable)"};
    specs[n++] = (ArgSpec){"list", ARG_FLAG, &list, "       list model names and exit"};
    if (init_from)
        specs[n++] = (ArgSpec){"from", ARG_STRING, &init_from, "CKPT   the MoT checkpoint to convert"};
    int rc = args_parse(argc, argv, usage, specs, n, NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (list) {
        model_list_names(stdout);
        return 0;
    }
    for (int i = 0; i < tags.count; i++) {
        const char *eq = strchr(tags.items[i], '=');
        if (!eq || eq == tags.items[i]) {
            fprintf(stderr, "suite %s: --tag expects KEY=VALUE with a non-empty KEY (got '%s')\n",
                    argv[0], tags.items[i]);
            return RUN_EXIT_USAGE;
        }
        o.tags[o.n_tags++] = tags.items[i];
    }
    ModelConfig from_cfg;
    char err[1024];
    if (init_from && *init_from) {
        if (checkpoint_read_config(init_from, &from_cfg, err, sizeof err)) {
            fprintf(stderr, "suite transition: %s\n", err);
            return RUN_EXIT_ERROR;
        }
        if (model_transition_target(&from_cfg) < 0) {
            fprintf(stderr, "suite transition: %s is a %s model; transition needs a MoT checkpoint\n",
                    init_from, ff_vtable(from_cfg.moe_kind)->family);
            return RUN_EXIT_USAGE;
        }
        o.init_from = init_from;
        o.model = from_cfg.name;
        o.transition_at = TRANSITION_AT_START;
    }
    if (!o.model) {
        fprintf(stderr, "suite %s: --model is required (see --help; --list shows the names)\n", argv[0]);
        return RUN_EXIT_USAGE;
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
        return RUN_EXIT_USAGE;
    }
    return train_command(argc, argv, TRANSITION_USAGE, from ? from : "");
}
