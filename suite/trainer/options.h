// The option table: every training option of `suite train` / `suite transition`,
// described once. The CLI parser (suite/cli/cmd_train.c), the YAML keys of the
// experiment definitions (suite/lab/experiment.c), config.json and the runner's
// argument list and run key (suite/lab/runner_args.c) are all generated from it.
//
// Adding an option: a field in TrainOptions, a row in TRAIN_OPTIONS (options.c),
// and the code that uses the field. A new option at its default leaves every
// finished run valid: the run key hashes only values that differ from the default.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_INT, OPT_U64, OPT_FLOAT, OPT_STRING, OPT_FLAG } OptionType;

enum {
    OPT_CHANGES_RESULT = 1,  // in the run key and in config.json
    OPT_SET_BY_RUNNER = 2,   // `suite run` sets it itself: not a YAML key
};

typedef struct {
    const char *name;      // "--name" on the command line; YAML / config.json key: '-' -> '_'
    OptionType type;
    size_t offset;         // of its field in TrainOptions
    const char *fallback;  // the default as text; NULL: derived by the trainer (help says how)
    const char *choices;   // OPT_STRING with fixed values: "a|b|c"; else NULL
    int flags;             // OPT_CHANGES_RESULT | OPT_SET_BY_RUNNER
    const char *meta;      // the value's placeholder in --help ("N", "DIR")
    const char *help;
} TrainOption;

enum { TRAIN_OPTIONS_MAX = 40, TRAIN_MAX_TAGS = 16, TRANSITION_AT_START = -2 };
extern const TrainOption TRAIN_OPTIONS[];
extern const int N_TRAIN_OPTIONS;

// A field whose default is derived holds "unset": -1 (int), NAN (float) or NULL.
typedef struct {
    const char *model;         // registry name
    const char *out_dir;       // run directory
    const char *train_data;    // dataset spec (datasets/dataset.h); NULL: bundled sample
    const char *val_data;
    const char *device;        // "cpu", "cuda" or "auto"
    const char *precision;     // "fp32", "mixed", "bf16"; NULL: the device's default
    int steps, batch, seq_len, accum;
    int warmup;                // -1: min(2500, steps/10)
    int eval_every, eval_batches, ckpt_every, log_every;
    int moe_from;              // -1: later half
    int transition_at;         // -1: none; TRANSITION_AT_START: at the step init_from
                               // holds; else convert MoT -> TC at this step
    int resume, quiet, shared_stream, skip_bad;
    int stop_after;            // > 0: leave the loop after this step, as an interrupted run
    float lr;                  // NAN: the model's peak LR
    float final_lr_frac, weight_decay, clip;
    float comm_timeout;        // seconds a collective may take before the job is ended
    uint64_t seed;
    const char *given[TRAIN_OPTIONS_MAX];  // text as the user wrote it; NULL: not given
    // Not options of the table: set by the commands.
    const char *init_from;     // start from this checkpoint's weights+state (transition)
    const char *tags[TRAIN_MAX_TAGS];  // "key=value", recorded in config.json
    int n_tags;
} TrainOptions;

void train_options_default(TrainOptions *o);

// By command-line name ("seq-len") or YAML key ("seq_len"); NULL if none.
const TrainOption *train_option_find(const char *name);
// "seq-len" -> "seq_len": the option's YAML and config.json key.
void train_option_key(const TrainOption *opt, char *out, size_t len);

// Parse text into o's field and remember it as given. 0, or -1 with why
// ("'ten' is not an integer").
int train_option_set(TrainOptions *o, const TrainOption *opt, const char *text, char *why,
                     size_t whylen);
// Every numeric option within its range ("--clip must be > 0 (got -1)"). Run before
// the trainer resolves derived defaults. 0, or -1 with why.
int train_options_check(const TrainOptions *o, char *why, size_t whylen);
// The value of opt in o as text: as given, else formatted from the field ("" when unset).
void train_option_text(const TrainOptions *o, const TrainOption *opt, char *out, size_t len);
// Check text for opt and write its canonical text (numbers reformatted, so "0.50"
// and "0.5" agree). 0, or -1 with why.
int train_option_canonical(const TrainOption *opt, const char *text, char *out, size_t len,
                           char *why, size_t whylen);
