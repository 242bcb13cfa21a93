#include "suite/trainer/options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/precision.h"
#include "suite/number.h"

#define FIELD(member) offsetof(TrainOptions, member)
enum { RESULT = OPT_CHANGES_RESULT, RUNNER = OPT_SET_BY_RUNNER };

const TrainOption TRAIN_OPTIONS[] = {
    {"model", OPT_STRING, FIELD(model), NULL, NULL, RESULT,
     "NAME", "model (suite params --list shows the names)"},
    {"out", OPT_STRING, FIELD(out_dir), NULL, NULL, RUNNER,
     "DIR", "run directory (default results/runs/<model>)"},
    {"steps", OPT_INT, FIELD(steps), "100", NULL, RESULT, "N", "optimizer steps"},
    {"batch", OPT_INT, FIELD(batch), "32", NULL, RESULT, "B", "global batch in sequences"},
    {"seq-len", OPT_INT, FIELD(seq_len), NULL, NULL, RESULT,
     "T", "sequence length (default: model context)"},
    {"accum", OPT_INT, FIELD(accum), "1", NULL, RESULT, "K", "gradient accumulation micro-steps"},
    {"lr", OPT_FLOAT, FIELD(lr), NULL, NULL, RESULT,
     "X", "peak learning rate (default: the model's SPEC LR)"},
    {"warmup", OPT_INT, FIELD(warmup), NULL, NULL, RESULT,
     "N", "warmup steps (default min(2500, steps/10))"},
    {"final-lr-frac", OPT_FLOAT, FIELD(final_lr_frac), "0.1", NULL, RESULT,
     "F", "cosine floor as a fraction of peak"},
    {"weight-decay", OPT_FLOAT, FIELD(weight_decay), "0.1", NULL, RESULT,
     "W", "AdamW decoupled weight decay"},
    {"clip", OPT_FLOAT, FIELD(clip), "0.5", NULL, RESULT, "C", "global gradient-norm clip"},
    {"seed", OPT_U64, FIELD(seed), "1", NULL, RESULT, "S", "initialisation and data seed"},
    {"eval-every", OPT_INT, FIELD(eval_every), NULL, NULL, RESULT,
     "N", "eval interval in steps (default steps/10)"},
    {"eval-batches", OPT_INT, FIELD(eval_batches), "10", NULL, RESULT,
     "N", "validation batches per eval"},
    {"ckpt-every", OPT_INT, FIELD(ckpt_every), NULL, NULL, 0,
     "N", "checkpoint interval (default: every eval)"},
    {"log-every", OPT_INT, FIELD(log_every), "1", NULL, RUNNER, "N", "progress line interval"},
    {"train-data", OPT_STRING, FIELD(train_data), NULL, NULL, RESULT | RUNNER,
     "SPEC", "C4 shard file, directory, glob or .tok (default: bundled C4 train sample)"},
    {"val-data", OPT_STRING, FIELD(val_data), NULL, NULL, RESULT | RUNNER,
     "SPEC", "validation data (default: bundled C4 validation sample)"},
    {"skip-bad", OPT_FLAG, FIELD(skip_bad), "false", NULL, RESULT,
     "", "count and skip malformed lines / corrupt gzip members in the data"},
    {"precision", OPT_STRING, FIELD(precision), NULL, "fp32|mixed|bf16", RESULT,
     "P", PRECISION_CHOICES " (default fp32 on cpu, mixed on cuda)"},
    {"device", OPT_STRING, FIELD(device), "auto", "cpu|cuda|auto", RUNNER,
     "D", "cpu | cuda | auto"},
    {"resume", OPT_FLAG, FIELD(resume), "false", NULL, RUNNER,
     "", "continue from DIR/ckpt.safetensors when it exists"},
    {"stop-after", OPT_INT, FIELD(stop_after), NULL, NULL, RUNNER,
     "N", "leave after step N as if interrupted (resume later)"},
    {"transition-at", OPT_INT, FIELD(transition_at), NULL, NULL, RESULT,
     "S", "MoT only: convert to Token Choice at step S"},
    {"moe-from", OPT_INT, FIELD(moe_from), NULL, NULL, RESULT,
     "L", "first block with the MoE/MoT FF (default: later half)"},
    {"comm-timeout", OPT_FLOAT, FIELD(comm_timeout), "600", NULL, 0,
     "S", "seconds a collective may take before the job is ended"},
    {"shared-stream", OPT_FLAG, FIELD(shared_stream), "false", NULL, RESULT,
     "", "all ranks draw one global batch stream (exact multi-rank equivalence)"},
    {"quiet", OPT_FLAG, FIELD(quiet), "false", NULL, RUNNER, "", "no progress lines"},
};
const int N_TRAIN_OPTIONS = sizeof TRAIN_OPTIONS / sizeof TRAIN_OPTIONS[0];
_Static_assert(sizeof TRAIN_OPTIONS / sizeof TRAIN_OPTIONS[0] <= TRAIN_OPTIONS_MAX,
               "raise TRAIN_OPTIONS_MAX: TrainOptions.given has one slot per option");

static int option_index(const TrainOption *opt) { return (int)(opt - TRAIN_OPTIONS); }

void train_option_key(const TrainOption *opt, char *out, size_t len) {
    snprintf(out, len, "%s", opt->name);
    for (char *c = out; *c; c++)
        if (*c == '-') *c = '_';
}

const TrainOption *train_option_find(const char *name) {
    char key[64];
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        train_option_key(&TRAIN_OPTIONS[i], key, sizeof key);
        if (!strcmp(name, TRAIN_OPTIONS[i].name) || !strcmp(name, key)) return &TRAIN_OPTIONS[i];
    }
    return NULL;
}

// "a|b|c" holds text as one of its words.
static int is_choice(const char *choices, const char *text) {
    size_t n = strlen(text);
    for (const char *c = choices; c; c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL)
        if (n && !strncmp(c, text, n) && (c[n] == '|' || c[n] == '\0')) return 1;
    return 0;
}

static const char *expected_text(const TrainOption *opt) {
    static const char *const by_type[] = {"an integer", "a non-negative integer", "a number",
                                          "a non-empty text", "true or false"};
    return by_type[opt->type];
}

// text -> the field at dst. The one parser of option values (CLI, YAML, defaults).
static int parse_into(const TrainOption *opt, const char *text, void *dst, char *why, size_t len) {
    int bad = 0;
    switch (opt->type) {
    case OPT_INT: bad = number_parse_int(text, dst); break;
    case OPT_U64: bad = number_parse_u64(text, dst); break;
    case OPT_FLOAT: bad = number_parse_float(text, dst); break;
    case OPT_FLAG: bad = number_parse_bool(text, dst); break;
    case OPT_STRING:
        bad = !*text || (opt->choices && !is_choice(opt->choices, text));
        if (!bad) *(const char **)dst = text;
        break;
    }
    if (bad && opt->choices) snprintf(why, len, "'%s' is not one of %s", text, opt->choices);
    else if (bad) snprintf(why, len, "'%s' is not %s", text, expected_text(opt));
    return bad ? -1 : 0;
}

void train_options_default(TrainOptions *o) {
    memset(o, 0, sizeof *o);
    char why[128];
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const TrainOption *opt = &TRAIN_OPTIONS[i];
        char *field = (char *)o + opt->offset;
        if (opt->fallback) parse_into(opt, opt->fallback, field, why, sizeof why);
        else if (opt->type == OPT_INT) *(int *)field = -1;
        else if (opt->type == OPT_FLOAT) *(float *)field = NAN;
    }
}

int train_option_set(TrainOptions *o, const TrainOption *opt, const char *text, char *why,
                     size_t whylen) {
    if (parse_into(opt, text, (char *)o + opt->offset, why, whylen)) return -1;
    o->given[option_index(opt)] = text;
    return 0;
}

static void format_field(const TrainOption *opt, const void *field, char *out, size_t len) {
    switch (opt->type) {
    case OPT_INT: snprintf(out, len, "%d", *(const int *)field); break;
    case OPT_U64: snprintf(out, len, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case OPT_FLOAT: number_format_float(*(const float *)field, out, (int)len); break;
    case OPT_FLAG: snprintf(out, len, "%s", *(const int *)field ? "true" : "false"); break;
    case OPT_STRING: {
        const char *text = *(const char *const *)field;
        snprintf(out, len, "%s", text ? text : "");
        break;
    }
    }
}

void train_option_text(const TrainOptions *o, const TrainOption *opt, char *out, size_t len) {
    const char *given = o->given[option_index(opt)];
    if (given) snprintf(out, len, "%s", given);
    else format_field(opt, (const char *)o + opt->offset, out, len);
}

int train_option_canonical(const TrainOption *opt, const char *text, char *out, size_t len,
                           char *why, size_t whylen) {
    TrainOptions scratch;
    memset(&scratch, 0, sizeof scratch);
    void *field = (char *)&scratch + opt->offset;
    if (parse_into(opt, text, field, why, whylen)) return -1;
    format_field(opt, field, out, len);
    return 0;
}

// The smallest value each numeric option accepts. Values are checked as given (or
// at their default): an option left unset keeps its derived default, but a given
// 0 or -1 is an error, never a silent fall back to that default.
typedef struct {
    const char *name;
    double min;
    int exclusive;  // the value must be > min, not >= min
} OptionBound;

static const OptionBound OPTION_BOUNDS[] = {
    {"steps", 1, 0},       {"batch", 1, 0},        {"seq-len", 1, 0},      {"accum", 1, 0},
    {"lr", 0, 1},          {"warmup", 0, 0},       {"final-lr-frac", 0, 0}, {"weight-decay", 0, 0},
    {"clip", 0, 1},        {"eval-every", 1, 0},   {"eval-batches", 1, 0}, {"ckpt-every", 1, 0},
    {"log-every", 1, 0},   {"stop-after", 1, 0},   {"transition-at", 0, 0}, {"moe-from", 0, 0},
    {"comm-timeout", 0, 1},
};

int train_options_check(const TrainOptions *o, char *why, size_t whylen) {
    for (size_t i = 0; i < sizeof OPTION_BOUNDS / sizeof OPTION_BOUNDS[0]; i++) {
        const OptionBound *b = &OPTION_BOUNDS[i];
        const TrainOption *opt = train_option_find(b->name);
        if (!o->given[option_index(opt)] && !opt->fallback) continue;  // derived later
        const void *field = (const char *)o + opt->offset;
        double x = opt->type == OPT_INT ? *(const int *)field : *(const float *)field;
        if (b->exclusive ? x > b->min : x >= b->min) continue;
        char text[32];
        format_field(opt, field, text, sizeof text);
        snprintf(why, whylen, "--%s must be %s %g (got %s)", opt->name, b->exclusive ? ">" : ">=",
                 b->min, text);
        return -1;
    }
    return 0;
}
