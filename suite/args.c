#include "suite/args.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void args_print_help(FILE *f, const char *usage, const ArgSpec *specs, int n_specs) {
    fprintf(f, "%s\n\noptions:\n", usage);
    for (int i = 0; i < n_specs; i++) fprintf(f, "  --%-16s %s\n", specs[i].name, specs[i].help);
    fprintf(f, "  --%-16s %s\n", "help", "show this help");
}

static int parse_value(const ArgSpec *s, const char *v) {
    char *end;
    errno = 0;
    switch (s->type) {
    case ARG_INT: {
        long x = strtol(v, &end, 10);
        if (*end || errno || x < -2147483647L || x > 2147483647L) return -1;
        *(int *)s->dst = (int)x;
        return 0;
    }
    case ARG_FLOAT: {
        float x = strtof(v, &end);
        if (*end || errno) return -1;
        *(float *)s->dst = x;
        return 0;
    }
    case ARG_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (*end || errno || v[0] == '-') return -1;
        *(uint64_t *)s->dst = x;
        return 0;
    }
    case ARG_STRING: *(const char **)s->dst = v; return 0;
    case ARG_LIST: {
        ArgList *l = s->dst;
        if (l->count == ARG_LIST_MAX) return -1;
        l->items[l->count++] = v;
        return 0;
    }
    case ARG_FLAG: return -1;
    }
    return -1;
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
        if (s->type == ARG_FLAG) {
            *(int *)s->dst = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "suite %s: %s needs a value\n", cmd, a);
            return 2;
        }
        if (parse_value(s, argv[++i])) {
            fprintf(stderr, "suite %s: bad value '%s' for %s (%s)\n", cmd, argv[i], a, s->help);
            return 2;
        }
    }
    return 0;
}
