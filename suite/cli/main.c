// suite: the mot-bench command line. Each subcommand lives in suite/cmd_*.c.
#include <stdio.h>
#include <string.h>

#include "suite/cli/commands.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} Command;

static const Command COMMANDS[] = {
    {"train", cmd_train, "train one model (dense, MoT, EC, TC) and write metrics/checkpoints"},
    {"eval", cmd_eval, "mean cross-entropy of a checkpoint over a token file"},
    {"params", cmd_params, "parameter count of a named model"},
    {"bench", cmd_bench, "tokens/s, GFLOP/s and MFU of a training step; --tokenizer MB/s"},
    {"tokenize", cmd_tokenize, "GPT-2 BPE: text on stdin -> ids on stdout (--decode reverses)"},
    {"transition", cmd_transition, "convert a MoT checkpoint to Token Choice and continue"},
    {"run", cmd_run, "run one experiment (figure/table) by name at a scale"},
    {"list", cmd_list, "list experiments, their runs and estimated cost"},
    {"diff", cmd_diff, "compare measured results with the published numbers"},
    {"downstream", cmd_downstream, "zero-shot PIQA / ARC-Easy / HellaSwag accuracy of a checkpoint"},
};
enum { N_COMMANDS = sizeof(COMMANDS) / sizeof(COMMANDS[0]) };

static void usage(FILE *f) {
    fprintf(f,
            "usage: suite COMMAND [options]   (suite COMMAND --help for each)\n\n"
            "mot-bench: reproduce 'Mixture of Tokens' (NeurIPS 2024) in C and CUDA.\n\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-11s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "suite: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
