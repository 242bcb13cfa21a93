#include "suite/cli/args.h"

#include <string.h>

#include "suite/number.h"

void args_print_help(FILE *f, const char *usage, const ArgSpec *specs, int n_specs) {
    fprintf(f, "%s\n\noptions:\n", usage);
    for (int i = 0; i < n_specs; i++) fprintf(f, "  --%-16s %s\n", specs[i].name, specs[i].help);
    fprintf(f, "  --%-16s %s\n", "help", "show this help");
}

// The value's text into s->dst. 0, or -1 with why.
static int parse_value(const ArgSpec *s, const char *v, char *why, size_t whylen) {
    int bad = -1;
    switch (s->type) {
    case ARG_INT: bad = number_parse_int(v, s->dst); break;
    case ARG_FLOAT: bad = number_parse_float(v, s->dst); break;
    case ARG_U64: bad = number_parse_u64(v, s->dst); break;
    case ARG_STRING: *(const char **)s->dst = v; return 0;
    case ARG_LIST: {  // args_parse has checked that it has room
        ArgList *l = s->dst;
        l->items[l->count++] = v;
        return 0;
    }
    case ARG_CALL:
    case ARG_CALL_FLAG: {
        const ArgCall *c = s->dst;
        return c->set(c->ctx, c->index, v, why, whylen);
    }
    case ARG_FLAG: *(int *)s->dst = 1; return 0;
    }
    if (bad) snprintf(why, whylen, "'%s' (%s)", v, s->help);
    return bad;
}

int args_parse(int argc, char **argv, const char *usage, const ArgSpec *specs, int n_specs,
               const char **positional) {
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args_print_help(stdout, usage, specs, n_specs);
            return 1;
        }
        if (strncmp(a, "--", 2)) {
            if (positional && !*positional) {
                *positional = a;
                continue;
            }
            fprintf(stderr, "suite %s: unexpected argument '%s' (see suite %s --help)\n", cmd, a, cmd);
            return 2;
        }
        const ArgSpec *s = NULL;
        for (int k = 0; k < n_specs; k++)
            if (!strcmp(a + 2, specs[k].name)) s = &specs[k];
        if (!s) {
            fprintf(stderr, "suite %s: unknown option '%s' (see suite %s --help)\n", cmd, a, cmd);
            return 2;
        }
        char why[256];
        int is_flag = s->type == ARG_FLAG || s->type == ARG_CALL_FLAG;
        if (!is_flag && i + 1 >= argc) {
            fprintf(stderr, "suite %s: %s needs a value\n", cmd, a);
            return 2;
        }
        if (s->type == ARG_LIST && ((const ArgList *)s->dst)->count == ARG_LIST_MAX) {
            fprintf(stderr, "suite %s: too many %s (max %d)\n", cmd, a, ARG_LIST_MAX);
            return 2;
        }
        const char *value = is_flag ? "true" : argv[++i];
        if (parse_value(s, value, why, sizeof why)) {
            fprintf(stderr, "suite %s: bad value for %s: %s\n", cmd, a, why);
            return 2;
        }
    }
    return 0;
}
