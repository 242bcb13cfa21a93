// Setting a run up: device, ranks, model (fresh, resumed or transitioned), data,
// and every derived option resolved into t->o, so config.json records what ran.
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impls/checkpoint.h"
#include "kernels/base/error.h"
#include "kernels/common.h"
#include "suite/paths.h"
#include "suite/trainer/device.h"
#include "suite/trainer/train_internal.h"

#define BUNDLED_TRAIN "datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl"
#define BUNDLED_VAL "datasets/c4-sample/c4-en-validation.sample1000.olmo.json.gz"

int train_fail(Trainer *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verrorf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int check_shapes(Trainer *t) {
    const TrainOptions *o = &t->o;  // each value in its range: train_options_check
    if (o->batch % (t->world * o->accum))
        return train_fail(t, "--batch %d is global and must split evenly over %d ranks x %d accumulation steps",
                    o->batch, t->world, o->accum);
    t->rows_per_rank = o->batch / t->world;
    t->micro_b = t->rows_per_rank / o->accum;
    return 0;
}

// Rank 0 tokenizes any missing caches first; the other ranks then reuse them.
// Without --train-data / --val-data: the bundled genuine C4 samples.
static int open_data(Trainer *t) {
    if (!t->o.train_data) {
        suite_path(t->bundled_train, sizeof t->bundled_train, BUNDLED_TRAIN);
        t->o.train_data = t->bundled_train;
    }
    if (!t->o.val_data) {
        suite_path(t->bundled_val, sizeof t->bundled_val, BUNDLED_VAL);
        t->o.val_data = t->bundled_val;
    }
    DatasetOptions dopt = {.quiet = t->o.quiet || !is_root(t), .skip_bad = t->o.skip_bad,
                           .vocab_size = t->model.cfg.vocab_size};
    if (!is_root(t)) comm_barrier(t->comm);
    t->train = dataset_open(t->o.train_data, &dopt, t->err, sizeof t->err);
    if (t->train) t->val = dataset_open(t->o.val_data, &dopt, t->err, sizeof t->err);
    if (is_root(t)) comm_barrier(t->comm);
    return t->val ? 0 : -1;
}

static double gib(double bytes) { return bytes / 1073741824.0; }

// Device memory the activations of `rows` rows take (from free memory before any).
static int measure_activations(Trainer *t, int rows, size_t before, MemoryPoint *p) {
    if (model_reserve(&t->model, rows, t->T, t->err, sizeof t->err)) return -1;
    *p = (MemoryPoint){rows, (double)before - (double)t->ops->memory_available()};
    return 0;
}

// Size the activations up front. On a GPU, probe two small micro-batches first and
// extrapolate along their line (memory_predict_bytes), so a batch that does not fit
// ends with the largest one that does instead of an out-of-memory crash.
static int reserve_activations(Trainer *t) {
    Model *m = &t->model;
    int group = m->cfg.group_size > 1 ? m->cfg.group_size : 1;
    size_t before = t->ops->memory_available();
    if (!strcmp(t->ops->name, "cuda") && t->micro_b > 2 * group) {
        MemoryPoint small, large;
        if (measure_activations(t, group, before, &small) || measure_activations(t, 2 * group, before, &large))
            return -1;
        double need = memory_predict_bytes(small, large, t->micro_b), budget = 0.95 * before;
        if (need > budget)
            return train_fail(t, "micro-batch %d x %d needs ~%.1f GiB of activations, %.1f GiB is free on %s: "
                        "the largest micro-batch that fits is %d (raise --accum or lower --batch)",
                        t->micro_b, t->T, gib(need), gib(before), t->ops->device_name(),
                        memory_max_rows(small, large, budget, group));
    }
    if (model_reserve(m, t->micro_b, t->T, t->err, sizeof t->err)) {
        if (t->world * t->o.accum > 1) {  // say where the micro-batch size came from
            char why[sizeof t->err];
            snprintf(why, sizeof why, "%s", t->err);
            train_fail(t, "per-rank micro-batch %d = --batch %d / (%d ranks x %d accum): %s", t->micro_b,
                 t->o.batch, t->world, t->o.accum, why);
        }
        return -1;
    }
    if (is_root(t) && !t->o.quiet && strcmp(t->ops->name, "cpu"))
        printf("memory: weights+grads+AdamW %.2f GiB, activations %.2f GiB, %.2f GiB left on %s\n",
               gib(4.0 * m->table.total * sizeof(float)), gib((double)(before - t->ops->memory_available())),
               gib((double)t->ops->memory_available()), t->ops->device_name());
    return 0;
}

// Build the model: from the run's own checkpoint when resuming (it may already
// have been converted by a transition), else from the registry.
static int build_model(Trainer *t, const char *resume_path) {
    ModelConfig cfg;
    if (resume_path) {
        if (checkpoint_read_config(resume_path, &cfg, t->err, sizeof t->err)) return -1;
        ModelConfig named;
        if (model_config_by_name(t->o.model, &named, t->err, sizeof t->err)) return -1;
        if (strcmp(cfg.name, named.name))
            return train_fail(t, "%s holds model %s, not %s: pick another --out or the matching --model",
                        resume_path, cfg.name, t->o.model);
    } else {
        if (model_config_by_name(t->o.model, &cfg, t->err, sizeof t->err)) return -1;
        if (t->o.moe_from >= 0) cfg.moe_first_layer = t->o.moe_from;
    }
    t->T = t->o.seq_len > 0 ? t->o.seq_len : cfg.max_seq_len;
    if (t->T > cfg.max_seq_len)
        return train_fail(t, "--seq-len %d exceeds %s's context of %d", t->T, cfg.name, cfg.max_seq_len);
    if (t->o.transition_at >= 0 && !resume_path && model_transition_target(&cfg) < 0)
        return train_fail(t, "--transition-at needs a MoT model (got %s)", cfg.name);
    if (model_create(&t->model, &cfg, t->ops, t->precision, t->o.seed, t->err, sizeof t->err))
        return -1;
    size_t bytes = t->model.table.total * sizeof(float);
    t->adam_m = t->ops->alloc(bytes);
    t->adam_v = t->ops->alloc(bytes);
    return reserve_activations(t);
}

static int load_state(Trainer *t, const char *path) {
    TrainState ts;
    memset(&ts, 0, sizeof ts);
    ts.adam_m = t->adam_m;
    ts.adam_v = t->adam_v;
    if (checkpoint_load(path, &t->model, &ts, t->err, sizeof t->err)) return -1;
    t->step = ts.step;
    return 0;
}

// Where the run's state comes from: its own checkpoint on --resume (when there is
// one), the transition's source checkpoint, or nowhere (a fresh model).
static const char *state_source(Trainer *t, char *ckpt, size_t len) {
    rundir_path(t, ckpt, len, RUNDIR_CKPT);
    const char *from = NULL;
    if (t->o.resume && access(ckpt, F_OK) == 0) from = ckpt;
    else if (t->o.init_from) from = t->o.init_from;
    t->o.resume = from == ckpt;
    return from;
}

// Derived defaults (options.h: "unset" fields), resolved once the model is known.
static void resolve_defaults(Trainer *t) {
    TrainOptions *o = &t->o;
    if (o->warmup < 0) o->warmup = o->steps / 10 < 2500 ? o->steps / 10 : 2500;
    o->seq_len = t->T;
    o->moe_from = t->model.cfg.moe_first_layer;
    o->precision = precision_name(t->precision);
    if (o->eval_every <= 0) o->eval_every = o->steps / 10 > 0 ? o->steps / 10 : 1;
    if (o->ckpt_every <= 0) o->ckpt_every = o->eval_every;
    if (o->log_every <= 0) o->log_every = 1;
}

static int setup_device(Trainer *t) {
    t->ops = device_select(t->o.device, t->err, sizeof t->err);
    if (!t->ops) return -1;
    t->precision = device_default_precision(t->ops);
    if (t->o.precision && precision_parse(t->o.precision, &t->precision))
        return train_fail(t, "--precision must be " PRECISION_CHOICES " (got '%s')", t->o.precision);
    t->comm = comm_init(t->ops, t->o.comm_timeout, t->err, sizeof t->err);
    if (!t->comm) return -1;
    t->rank = comm_rank(t->comm);
    t->world = comm_size(t->comm);
    return check_shapes(t);
}

static void alloc_batches(Trainer *t) {
    size_t rows = (size_t)t->micro_b * t->T;
    t->tokens = mallocCheck(rows * sizeof(int));
    t->targets = mallocCheck(rows * sizeof(int));
    if (t->o.shared_stream) {
        t->pool_tokens = mallocCheck((size_t)t->o.batch * t->T * sizeof(int));
        t->pool_targets = mallocCheck((size_t)t->o.batch * t->T * sizeof(int));
    }
}

int train_setup(Trainer *t) {
    if (setup_device(t)) return -1;
    if (make_dirs(t->out_dir, t->err, sizeof t->err) || rundir_lock(t)) return -1;
    char ckpt[1200];
    const char *state_from = state_source(t, ckpt, sizeof ckpt);
    if (build_model(t, state_from)) return -1;
    if (isnan(t->o.lr)) t->o.lr = t->model.cfg.peak_lr;
    if (state_from && load_state(t, state_from)) return -1;
    if (t->o.transition_at == TRANSITION_AT_START) t->o.transition_at = (int)t->step;
    if (t->step >= t->o.steps && !t->o.resume)
        return train_fail(t, "%s is already at step %ld; ask for more --steps (got %d)", state_from,
                          t->step, t->o.steps);
    if (open_data(t)) return -1;
    alloc_batches(t);
    t->peak_flops = device_peak_flops(t->ops, t->precision, t->peak_source, sizeof t->peak_source);
    resolve_defaults(t);
    return rundir_open_outputs(t);
}

void train_print_banner(const Trainer *t) {
    if (!is_root(t) || t->o.quiet) return;
    const ModelConfig *c = &t->model.cfg;
    printf("model %s | %.2fM params | %s (%s) | %s | world %d\n", c->name,
           t->model.table.total / 1e6, t->ops->name, t->ops->device_name(),
           precision_name(t->model.precision), t->world);
    printf("batch %d x %d (per rank %d = %d micro-batch(es) of %d) | %d steps | peak lr %.2e | warmup %d\n",
           t->o.batch, t->T, t->rows_per_rank, t->o.accum, t->micro_b, t->o.steps, t->o.lr, t->o.warmup);
    printf("data: train %s (%s, %.1fM tokens) | val %s (%s)\n", t->o.train_data, dataset_label(t->train),
           dataset_num_tokens(t->train) / 1e6, t->o.val_data, dataset_label(t->val));
    printf("MFU against %s | run dir %s%s\n", t->peak_source, t->out_dir,
           t->o.resume ? " (resumed)" : "");
    if (t->step > 0) printf("starting at step %ld\n", t->step);
    fflush(stdout);
}

void train_teardown(Trainer *t) {
    if (t->metrics) fclose(t->metrics);
    if (t->evals) fclose(t->evals);
    if (t->layers) fclose(t->layers);
    if (t->ops) {
        t->ops->free(t->adam_m);
        t->ops->free(t->adam_v);
        if (t->model.ops) model_free(&t->model);
    }
    if (t->train) dataset_close(t->train);
    if (t->val) dataset_close(t->val);
    free(t->tokens);
    free(t->targets);
    free(t->pool_tokens);
    free(t->pool_targets);
    if (t->comm) comm_finalize(t->comm);
    rundir_unlock(t);  // last: the next trainer finds every file closed
}

