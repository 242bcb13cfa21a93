// suite params: parameter counts of named models (SPEC §3 is the test).
#include <stdio.h>
#include <string.h>

#include "impls/model.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"

static void print_count(const ModelConfig *c) {
    size_t n = model_param_count(c);
    printf("%-24s %10.2fM  (%zu)\n", c->name, n / 1e6, n);
}

int cmd_params(int argc, char **argv) {
    const char *model = NULL;
    int list = 0, all = 0;
    ArgSpec specs[] = {
        {"model", ARG_STRING, &model, "NAME   model name, e.g. mot-medium/32e/16"},
        {"all", ARG_FLAG, &all, "         every known model"},
        {"list", ARG_FLAG, &list, "        list model names only"},
    };
    int rc = args_parse(argc, argv, "usage: suite params (--model NAME | --all | --list)\n\n"
                        "Prints the total parameter count (embeddings and head included).",
                        specs, 3, &model);
    if (rc) return rc == 1 ? 0 : rc;
    if (list) {
        model_list_names(stdout);
        return 0;
    }
    if (all) {
        char names[4096];
        FILE *mem = fmemopen(names, sizeof names, "w");
        model_list_names(mem);
        fclose(mem);
        for (char *line = strtok(names, "\n"); line; line = strtok(NULL, "\n")) {
            ModelConfig c;
            char err[512];
            if (model_config_by_name(line, &c, err, sizeof err) == 0) print_count(&c);
        }
        return 0;
    }
    if (!model) {
        fprintf(stderr, "suite params: give --model NAME, --all or --list\n");
        return 2;
    }
    ModelConfig c;
    char err[512];
    if (model_config_by_name(model, &c, err, sizeof err)) {
        fprintf(stderr, "suite params: %s\n", err);
        return 1;
    }
    print_count(&c);
    return 0;
}
