// Table-driven "--name value" option parsing and --help text for the subcommands.
#pragma once
#include <stddef.h>
#include <stdio.h>

// ARG_CALL / ARG_CALL_FLAG hand the value ("true" for a flag) to a function:
// for options described elsewhere (the training options, suite/trainer/options.h).
typedef enum { ARG_INT, ARG_FLOAT, ARG_STRING, ARG_FLAG, ARG_U64, ARG_LIST, ARG_CALL, ARG_CALL_FLAG } ArgType;

typedef struct {
    // 0, or -1 with why ("'ten' is not an integer").
    int (*set)(void *ctx, int index, const char *value, char *why, size_t whylen);
    void *ctx;
    int index;
} ArgCall;

typedef struct {
    const char *name;  // without the leading "--"
    ArgType type;
    void *dst;         // int*, float*, const char**, int* (flag), uint64_t*, ArgList*, ArgCall*
    const char *help;  // "VALUE  what it does (default ...)"
} ArgSpec;

enum { ARG_LIST_MAX = 16 };
typedef struct {  // repeatable string option
    const char *items[ARG_LIST_MAX];
    int count;
} ArgList;

// Parse argv[1..argc) (argv[0] is the command name). Prints usage and the options
// on --help (returns 1), a one-line error naming the option on bad input
// (returns 2), 0 on success. Positional arguments are not accepted unless
// positional != NULL, which then receives the first one.
int args_parse(int argc, char **argv, const char *usage, const ArgSpec *specs, int n_specs,
               const char **positional);
void args_print_help(FILE *f, const char *usage, const ArgSpec *specs, int n_specs);
