// suite eval: mean cross-entropy of a checkpoint over a token stream, read in
// sequential non-overlapping windows from the start (deterministic, so numbers
// can be compared with other implementations).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "impls/checkpoint.h"
#include "impls/model.h"
#include "kernels/common.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/trainer/device.h"
#include "suite/paths.h"
#include "suite/rundir.h"

static const char *USAGE =
    "usage: suite eval --ckpt PATH [--data SPEC] [--batch B] [--seq-len T] [--batches N]\n"
    "                  [--out CSV]\n\n"
    "Mean token cross-entropy (nats) of a checkpoint over sequential non-overlapping\n"
    "windows of T+1 tokens from the start of the data (documents in file order, each\n"
    "followed by end-of-text). MoT groups are formed from consecutive rows as in training.";

// The result as a one-row CSV for the lab (`suite run` reads it by header name).
static int write_out(const char *path, const char *label, int batches, double loss, char *err,
                     size_t errlen) {
    FILE *f = fopen(path, "w");
    if (f) fprintf(f, EVAL_OUT_HEADER "\n%s,%d,%.6f\n", label, batches, loss);
    if (!f || fclose(f)) {
        snprintf(err, errlen, "--out %s: cannot write it (%s); check the folder exists", path,
                 strerror(errno));
        return 1;
    }
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *ckpt = NULL, *data = NULL, *device = "auto", *out = NULL;
    int B = 32, T = 0, batches = 0, discrete = 0, pad = 0, skip_bad = 0;
    char default_data[1024];
    suite_path(default_data, sizeof default_data, "datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz");
    data = default_data;
    ArgSpec specs[] = {
        {"ckpt", ARG_STRING, &ckpt, "PATH       checkpoint (.safetensors) to evaluate"},
        {"data", ARG_STRING, &data, "SPEC       data (default: bundled C4 validation sample)"},
        {"batch", ARG_INT, &B, "B         sequences per forward (default 32)"},
        {"seq-len", ARG_INT, &T, "T       window length (default: the model's context)"},
        {"batches", ARG_INT, &batches, "N       number of batches (default: all full batches)"},
        {"device", ARG_STRING, &device, "D        cpu | cuda | auto"},
        {"out", ARG_STRING, &out, "CSV        also write " EVAL_OUT_HEADER " (one row) there"},
        {"discrete", ARG_FLAG, &discrete, "      MoT: argmax one-hot routing over each group"},
        {"skip-bad", ARG_FLAG, &skip_bad, "      count and skip malformed lines / corrupt gzip members"},
        {"pad", ARG_FLAG, &pad, "           MoT: pad a batch not divisible by the group size (EC still refuses one)"},
    };
    int rc = args_parse(argc, argv, USAGE, specs, sizeof specs / sizeof specs[0], NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (!ckpt) {
        fprintf(stderr, "suite eval: --ckpt PATH is required\n");
        return 2;
    }
    if (B < 1 || batches < 0) {
        fprintf(stderr, "suite eval: --batch must be >= 1 and --batches >= 0\n");
        return 2;
    }
    char err[1024];
    ModelConfig cfg;
    Model m = {0};
    Dataset *ds = NULL;
    rc = 1;
    const Ops *ops = device_select(device, err, sizeof err);
    if (!ops || checkpoint_read_config(ckpt, &cfg, err, sizeof err)) goto done;
    if (T <= 0) T = cfg.max_seq_len;
    if (model_create(&m, &cfg, ops, PREC_FP32, 0, err, sizeof err)) goto done;
    model_set_eval_padding(&m, pad);
    if (model_reserve(&m, B, T, err, sizeof err) || checkpoint_load(ckpt, &m, NULL, err, sizeof err)) goto done;
    m.discrete_eval = discrete;
    DatasetOptions dopt = {.quiet = 1, .skip_bad = skip_bad, .vocab_size = cfg.vocab_size};
    if (!(ds = dataset_open(data, &dopt, err, sizeof err))) goto done;
    uint64_t full = (dataset_num_tokens(ds) - 1) / (uint64_t)T / (uint64_t)B;
    if (batches == 0) batches = (int)full;
    if (batches == 0 || (uint64_t)batches > full) {
        snprintf(err, sizeof err, "%s holds %llu full batches of %dx%d, %d asked for", data,
                 (unsigned long long)full, B, T, batches);
        goto done;
    }
    int *tokens = mallocCheck((size_t)B * T * sizeof(int)), *targets = mallocCheck((size_t)B * T * sizeof(int));
    double sum = 0;
    for (int i = 0; i < batches; i++) {
        dataset_sequential_batch(ds, (uint64_t)i, B, T, tokens, targets);
        sum += model_eval_loss(&m, tokens, targets);
    }
    free(tokens);
    free(targets);
    double loss = sum / batches;
    if (!isfinite(loss)) {  // what a diverged run's weights give: a result nobody should use
        snprintf(err, sizeof err, "eval loss is %g: %s holds non-finite weights (a diverged run?)", loss, ckpt);
        goto done;
    }
    printf("eval loss %.6f nats (ppl %.2f) | %s | %d batches of %dx%d = %lld tokens | data %s (%s)%s\n",
           loss, exp(loss), cfg.name, batches, B, T, (long long)batches * B * T, data,
           dataset_label(ds), discrete ? " | discrete routing" : "");
    rc = out ? write_out(out, dataset_label(ds), batches, loss, err, sizeof err) : 0;
done:
    if (rc) fprintf(stderr, "suite eval: %s\n", err);
    if (ds) dataset_close(ds);
    if (m.ops) model_free(&m);
    return rc;
}
