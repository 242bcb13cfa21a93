#include "suite/train.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/dataset.h"
#include "datasets/file_util.h"
#include "impls/checkpoint.h"
#include "impls/model.h"
#include "kernels/comm.h"
#include "kernels/common.h"
#include "suite/csvio.h"
#include "suite/device.h"
#include "suite/paths.h"
#include "suite/timefmt.h"

enum { EXIT_FINISHED = 0, EXIT_ERROR = 1, EXIT_DIVERGED = 3 };
enum { ERR_LEN = 1024 };

void train_options_default(TrainOptions *o) {
    memset(o, 0, sizeof *o);
    o->device = "auto";
    o->steps = 100;
    o->batch = 32;
    o->accum = 1;
    o->warmup = -1;
    o->eval_batches = 10;
    o->log_every = 1;
    o->moe_from = -1;
    o->transition_at = -1;
    o->precision = -1;
    o->final_lr_frac = 0.1f;
    o->weight_decay = 0.1f;
    o->clip = 0.5f;
    o->seed = 1;
    o->lr = NAN;
    o->comm_timeout = 600;
}

typedef struct {
    TrainOptions o;
    const Ops *ops;
    Comm *comm;
    int rank, world;
    int rows_per_rank, micro_b, T;  // sequences per rank per step, per forward
    Model model;
    Dataset *train, *val;
    float *adam_m, *adam_v;  // (params) device
    long step;               // optimizer steps completed
    double peak_flops;       // for MFU
    char peak_source[96];
    char out_dir[1024];
    int *tokens, *targets;   // (micro_b,T) host
    int *pool_tokens, *pool_targets;  // (batch,T) host: the shared global batch
    FILE *metrics, *evals, *layers;
    char err[ERR_LEN];
} Trainer;

static int is_root(const Trainer *t) { return t->rank == 0; }

static void path_in_run(const Trainer *t, char *out, size_t len, const char *file) {
    snprintf(out, len, "%s/%s", t->out_dir, file);
}

// ---- learning rate (SPEC §4) ------------------------------------------------

static int warmup_steps(const TrainOptions *o) {
    if (o->warmup >= 0) return o->warmup;
    int w = o->steps / 10;
    return w < 2500 ? w : 2500;
}

// LR for the update that completes step+1: linear warmup, then cosine from peak
// to final_lr_frac*peak at the last step.
static float lr_at(const TrainOptions *o, float peak, long step) {
    int warmup = warmup_steps(o);
    if (step < warmup) return peak * (float)(step + 1) / (float)warmup;
    float floor = peak * o->final_lr_frac;
    long span = o->steps - warmup;
    double progress = span > 0 ? (double)(step - warmup) / (double)span : 1.0;
    if (progress > 1.0) progress = 1.0;
    return floor + (peak - floor) * 0.5f * (float)(1.0 + cos(M_PI * progress));
}

// ---- run directory files ----------------------------------------------------

static int write_json_atomic(const char *path, json_t *j, char *err, size_t errlen) {
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void write_status(Trainer *t, const char *status, double final_eval, long diverged_at,
                         const char *message) {
    if (!is_root(t)) return;
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(status));
    json_object_set_new(j, "step", json_integer(t->step));
    json_object_set_new(j, "final_eval_loss", isnan(final_eval) ? json_null() : json_real(final_eval));
    json_object_set_new(j, "diverged_at", diverged_at < 0 ? json_null() : json_integer(diverged_at));
    json_object_set_new(j, "message", json_string(message ? message : ""));
    char path[1200], err[ERR_LEN];
    path_in_run(t, path, sizeof path, "status.json");
    if (write_json_atomic(path, j, err, sizeof err)) fprintf(stderr, "suite train: %s\n", err);
    json_decref(j);
}

static json_t *options_json(const Trainer *t) {
    const TrainOptions *o = &t->o;
    json_t *j = json_object();
    json_object_set_new(j, "model", json_string(o->model));
    json_object_set_new(j, "steps", json_integer(o->steps));
    json_object_set_new(j, "batch", json_integer(o->batch));
    json_object_set_new(j, "seq_len", json_integer(t->T));
    json_object_set_new(j, "accum", json_integer(o->accum));
    json_object_set_new(j, "lr", json_real(o->lr));
    json_object_set_new(j, "warmup", json_integer(warmup_steps(o)));
    json_object_set_new(j, "final_lr_frac", json_real(o->final_lr_frac));
    json_object_set_new(j, "weight_decay", json_real(o->weight_decay));
    json_object_set_new(j, "clip", json_real(o->clip));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "eval_every", json_integer(o->eval_every));
    json_object_set_new(j, "eval_batches", json_integer(o->eval_batches));
    json_object_set_new(j, "transition_at", json_integer(o->transition_at));
    json_object_set_new(j, "shared_stream", json_boolean(o->shared_stream));
    json_object_set_new(j, "precision", json_string(precision_name((Precision)o->precision)));
    return j;
}

static int write_config(Trainer *t) {
    json_t *j = options_json(t);
    char *model_json = model_config_to_json(&t->model.cfg);
    json_t *mj = json_loads(model_json, 0, NULL);
    free(model_json);
    json_object_set_new(j, "model_config", mj ? mj : json_null());
    json_object_set_new(j, "parameters", json_integer((json_int_t)t->model.table.total));
    json_object_set_new(j, "train_data", json_string(t->o.train_data));
    json_object_set_new(j, "val_data", json_string(t->o.val_data));
    json_object_set_new(j, "train_dataset", json_string(dataset_label(t->train)));
    json_object_set_new(j, "val_dataset", json_string(dataset_label(t->val)));
    json_object_set_new(j, "device", json_string(t->ops->device_name()));
    json_object_set_new(j, "backend", json_string(t->ops->name));
    json_object_set_new(j, "world_size", json_integer(t->world));
    json_object_set_new(j, "commit", json_string(suite_commit()));
    json_t *tags = json_object();
    for (int i = 0; i < t->o.n_tags; i++) {
        char key[128];
        const char *eq = strchr(t->o.tags[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - t->o.tags[i]), t->o.tags[i]);
        json_object_set_new(tags, key, json_string(eq + 1));
    }
    json_object_set_new(j, "tags", tags);
    char path[1200];
    path_in_run(t, path, sizeof path, "config.json");
    int rc = write_json_atomic(path, j, t->err, sizeof t->err);
    json_decref(j);
    return rc;
}

// Open a CSV for appending; write the header when it is new.
static FILE *open_csv(Trainer *t, const char *file, int n, const char *const *header) {
    char path[1200];
    path_in_run(t, path, sizeof path, file);
    if (t->o.resume && csv_keep_rows_upto(path, t->step, t->err, sizeof t->err)) return NULL;
    int fresh = !t->o.resume || access(path, F_OK) != 0;  // a new run starts its files over
    FILE *f = fopen(path, fresh ? "w" : "a");
    if (!f) {
        snprintf(t->err, sizeof t->err, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fresh) csv_write_row(f, n, header);
    return f;
}

// Format doubles/longs into strings and write them as one CSV row.
static void write_numbers(FILE *f, int n, const double *values, const int *is_int) {
    char bufs[16][32];
    const char *fields[16];
    for (int i = 0; i < n; i++) {
        if (is_int[i]) snprintf(bufs[i], sizeof bufs[i], "%.0f", values[i]);
        else snprintf(bufs[i], sizeof bufs[i], "%.6g", values[i]);
        fields[i] = bufs[i];
    }
    csv_write_row(f, n, fields);
    fflush(f);
}

// ---- data -------------------------------------------------------------------

// The rows of the global batch this rank feeds to micro-step `micro` of `step`.
// Each step reseeds the packer from (seed, step), so a resumed run sees exactly
// the batches an uninterrupted one would, whatever the number of ranks.
static void next_micro_batch(Trainer *t, int micro) {
    int T = t->T;
    Packer p;
    if (t->o.shared_stream) {
        // Every rank draws the same global batch and takes its own rows: runs on
        // different numbers of ranks then see identical global batches.
        if (micro == 0) {
            packer_init(&p, t->o.seed + 0x9e3779b97f4a7c15ull * (uint64_t)(t->step + 1), 0);
            dataset_sample_batch(t->train, &p, t->o.batch, T, t->pool_tokens, t->pool_targets);
        }
        size_t first = ((size_t)t->rank * t->rows_per_rank + (size_t)micro * t->micro_b) * T;
        memcpy(t->tokens, t->pool_tokens + first, (size_t)t->micro_b * T * sizeof(int));
        memcpy(t->targets, t->pool_targets + first, (size_t)t->micro_b * T * sizeof(int));
        return;
    }
    // Paper rule: each rank draws its own stream.
    packer_init(&p, t->o.seed + 0x9e3779b97f4a7c15ull * (uint64_t)(t->step + 1) + (uint64_t)micro, t->rank);
    dataset_sample_batch(t->train, &p, t->micro_b, T, t->tokens, t->targets);
}

// Mean validation loss over the fixed eval batches (same B×T and grouping as
// training), split across ranks and micro-batches.
static double evaluate(Trainer *t) {
    double sum = 0;
    long count = 0;
    int per_batch = t->o.batch / t->micro_b;  // micro-batches per global batch
    for (int i = 0; i < t->o.eval_batches; i++)
        for (int a = 0; a < per_batch; a++) {
            if (a % t->world != t->rank) continue;
            uint64_t index = (uint64_t)i * per_batch + (uint64_t)a;
            dataset_sequential_batch(t->val, index, t->micro_b, t->T, t->tokens, t->targets);
            sum += model_eval_loss(&t->model, t->tokens, t->targets);
            count++;
        }
    sum = comm_sum_scalar(t->comm, sum);
    double n = comm_sum_scalar(t->comm, (double)count);
    return n > 0 ? sum / n : NAN;
}

static void log_eval(Trainer *t, double loss) {
    if (!is_root(t)) return;
    double tokens = (double)t->step * t->o.batch * t->T;
    char step[32], tok[32], val[32];
    snprintf(step, sizeof step, "%ld", t->step);
    snprintf(tok, sizeof tok, "%.0f", tokens);
    snprintf(val, sizeof val, "%.6f", loss);
    const char *fields[] = {step, tok, val, ff_vtable(t->model.cfg.moe_kind)->family};
    csv_write_row(t->evals, 4, fields);
    fflush(t->evals);
    FFStats stats[MODEL_MAX_LAYERS];
    model_ff_stats(&t->model, stats);
    for (int l = 0; l < t->model.cfg.n_layers; l++) {
        FFKind kind = t->model.ff[l].cfg.kind;
        if (kind == FF_DENSE) continue;
        char f[6][32];
        snprintf(f[0], 32, "%ld", t->step);
        snprintf(f[1], 32, "%d", l);
        snprintf(f[2], 32, "%.6f", stats[l].router_entropy);
        snprintf(f[3], 32, "%.6f", stats[l].dropped_fraction);
        snprintf(f[4], 32, "%.6f", stats[l].load_max_over_mean);
        snprintf(f[5], 32, "%.6f", stats[l].aux_loss);
        const char *row[] = {f[0], f[1], ff_vtable(kind)->family, f[2], f[3], f[4], f[5]};
        csv_write_row(t->layers, 7, row);
    }
    fflush(t->layers);
    if (!t->o.quiet)
        printf("eval  step %ld | %s | val loss %.4f\n", t->step, ff_vtable(t->model.cfg.moe_kind)->family, loss);
}

// ---- checkpoints ------------------------------------------------------------

static void fill_train_state(Trainer *t, TrainState *ts) {
    memset(ts, 0, sizeof *ts);
    ts->step = t->step;
    ts->data_rng[0] = t->o.seed;
    ts->data_rng[1] = (uint64_t)t->step;
    ts->adam_m = t->adam_m;
    ts->adam_v = t->adam_v;
    json_t *j = options_json(t);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(ts->train_json, sizeof ts->train_json, "%s", text);
    free(text);
    json_decref(j);
}

static int save_checkpoint(Trainer *t) {
    if (!is_root(t)) return 0;
    TrainState ts;
    fill_train_state(t, &ts);
    char path[1200];
    path_in_run(t, path, sizeof path, "ckpt.safetensors");
    return checkpoint_save(path, &t->model, &ts, t->err, sizeof t->err);
}

// ---- setup ------------------------------------------------------------------

static int fail(Trainer *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Trainer *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int check_shapes(Trainer *t) {
    const TrainOptions *o = &t->o;
    if (o->steps < 1) return fail(t, "--steps must be >= 1 (got %d)", o->steps);
    if (o->batch < 1) return fail(t, "--batch must be >= 1 (got %d)", o->batch);
    if (o->accum < 1) return fail(t, "--accum must be >= 1 (got %d)", o->accum);
    if (o->eval_batches < 1) return fail(t, "--eval-batches must be >= 1 (got %d)", o->eval_batches);
    if (o->batch % (t->world * o->accum))
        return fail(t, "--batch %d is global and must split evenly over %d ranks x %d accumulation steps",
                    o->batch, t->world, o->accum);
    t->rows_per_rank = o->batch / t->world;
    t->micro_b = t->rows_per_rank / o->accum;
    return 0;
}

// Rank 0 tokenizes any missing caches first; the other ranks then reuse them.
static int open_data(Trainer *t) {
    DatasetOptions dopt = {.quiet = t->o.quiet || !is_root(t), .skip_bad = t->o.skip_bad};
    if (!is_root(t)) comm_barrier(t->comm);
    t->train = dataset_open(t->o.train_data, &dopt, t->err, sizeof t->err);
    if (t->train) t->val = dataset_open(t->o.val_data, &dopt, t->err, sizeof t->err);
    if (is_root(t)) comm_barrier(t->comm);
    return t->val ? 0 : -1;
}

static double gib(double bytes) { return bytes / 1073741824.0; }

// Size the activations up front. On a GPU, probe a small micro-batch first and
// extrapolate (activation memory is linear in the batch), so a batch that does not
// fit ends with the largest one that does instead of an out-of-memory crash.
static int reserve_activations(Trainer *t) {
    Model *m = &t->model;
    int group = m->cfg.group_size > 1 ? m->cfg.group_size : 1;
    size_t before = t->ops->memory_available();
    if (!strcmp(t->ops->name, "cuda") && t->micro_b > group) {
        if (model_reserve(m, group, t->T, t->err, sizeof t->err)) return -1;
        double per_row = (double)(before - t->ops->memory_available()) / group;
        double need = per_row * t->micro_b;
        if (need > 0.95 * before) {
            int fits = (int)(0.95 * before / per_row) / group * group;
            return fail(t, "micro-batch %d x %d needs ~%.1f GiB of activations, %.1f GiB is free on %s: "
                        "the largest micro-batch that fits is %d (raise --accum or lower --batch)",
                        t->micro_b, t->T, gib(need), gib(before), t->ops->device_name(), fits);
        }
    }
    if (model_reserve(m, t->micro_b, t->T, t->err, sizeof t->err)) {
        if (t->world * t->o.accum > 1) {  // say where the micro-batch size came from
            char why[sizeof t->err];
            snprintf(why, sizeof why, "%s", t->err);
            fail(t, "per-rank micro-batch %d = --batch %d / (%d ranks x %d accum): %s", t->micro_b,
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
            return fail(t, "%s holds model %s, not %s: pick another --out or the matching --model",
                        resume_path, cfg.name, t->o.model);
    } else {
        if (model_config_by_name(t->o.model, &cfg, t->err, sizeof t->err)) return -1;
        if (t->o.moe_from >= 0) cfg.moe_first_layer = t->o.moe_from;
    }
    t->T = t->o.seq_len > 0 ? t->o.seq_len : cfg.max_seq_len;
    if (t->T > cfg.max_seq_len)
        return fail(t, "--seq-len %d exceeds %s's context of %d", t->T, cfg.name, cfg.max_seq_len);
    if (t->o.transition_at >= 0 && !resume_path && cfg.moe_kind != FF_MOT)
        return fail(t, "--transition-at needs a MoT model (got %s)", cfg.name);
    if (model_create(&t->model, &cfg, t->ops, (Precision)t->o.precision, t->o.seed, t->err, sizeof t->err))
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

// ---- the step -----------------------------------------------------------------

typedef struct {
    double loss, ce, aux, grad_norm;
    float lr;
} StepResult;

static StepResult train_step(Trainer *t, float peak_lr) {
    StepResult r = {0};
    Model *m = &t->model;
    const Ops *ops = t->ops;
    size_t n = m->table.total;
    model_zero_grad(m);
    for (int a = 0; a < t->o.accum; a++) {
        next_micro_batch(t, a);
        double aux = 0;
        r.ce += model_forward_backward(m, t->tokens, t->targets, 1.0f / (float)t->o.accum, &aux) / t->o.accum;
        r.aux += aux / t->o.accum;
    }
    r.ce = comm_sum_scalar(t->comm, r.ce) / t->world;
    r.aux = comm_sum_scalar(t->comm, r.aux) / t->world;
    r.loss = r.ce + r.aux;
    comm_allreduce_mean(t->comm, m->grads, n);
    if (m->precision == PREC_BF16) ops->round_bf16(m->grads, n);
    r.grad_norm = sqrt(ops->sumsq(m->grads, n));
    r.lr = lr_at(&t->o, peak_lr, t->step);
    if (!isfinite(r.loss) || !isfinite(r.grad_norm)) return r;  // caller records divergence
    float clip_scale = r.grad_norm > t->o.clip ? (float)(t->o.clip / r.grad_norm) : 1.0f;
    ops->adamw(m->params, m->grads, t->adam_m, t->adam_v, n, r.lr, 0.9f, 0.999f, 1e-8f,
               t->o.weight_decay, (int)(t->step + 1), clip_scale, m->precision == PREC_BF16);
    return r;
}

static void log_step(Trainer *t, const StepResult *r, double step_seconds, double elapsed,
                     double avg_step_seconds) {
    if (!is_root(t)) return;
    double tokens_per_s = (double)t->o.batch * t->T / step_seconds;
    double mfu = tokens_per_s * model_flops_per_token(&t->model.cfg, t->T) / (t->peak_flops * t->world);
    double values[] = {(double)t->step, r->loss, r->ce, r->aux, r->lr, r->grad_norm, tokens_per_s, mfu, elapsed};
    static const int is_int[] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
    write_numbers(t->metrics, 9, values, is_int);
    if (t->o.quiet || (t->step % t->o.log_every && t->step != t->o.steps)) return;
    char eta[32];
    format_duration(eta, sizeof eta, avg_step_seconds * (t->o.steps - t->step));
    printf("step %5ld/%d | loss %.4f", t->step, t->o.steps, r->loss);
    if (r->aux != 0) printf(" (aux %.4f)", r->aux);
    printf(" | lr %.2e | norm %.3f | %.1fk tok/s | MFU %.1f%% | ETA %s\n", r->lr, r->grad_norm,
           tokens_per_s / 1e3, 100 * mfu, eta);
    fflush(stdout);
}

// MoT -> Token Choice at the configured step: the loss in both modes at the
// switch goes to eval.csv (SPEC §2 transition tuning).
static int maybe_transition(Trainer *t) {
    if (t->o.transition_at < 0 || t->step != t->o.transition_at || t->model.cfg.moe_kind != FF_MOT)
        return 0;
    log_eval(t, evaluate(t));
    if (model_convert_family(&t->model, FF_TC, t->err, sizeof t->err)) return -1;
    if (is_root(t) && !t->o.quiet) printf("transition at step %ld: MoT -> Token Choice\n", t->step);
    log_eval(t, evaluate(t));
    return 0;
}

static int open_outputs(Trainer *t) {
    if (!is_root(t)) return 0;
    static const char *const metrics[] = {"step", "loss", "ce_loss", "aux_loss", "lr", "grad_norm", "tokens_per_s", "mfu", "elapsed_s"};
    static const char *const evals[] = {"step", "tokens", "eval_loss", "mode"};
    static const char *const layers[] = {"step", "layer", "family", "router_entropy", "dropped_fraction", "load_max_over_mean", "aux_loss"};
    if (!(t->metrics = open_csv(t, "metrics.csv", 9, metrics))) return -1;
    if (!(t->evals = open_csv(t, "eval.csv", 4, evals))) return -1;
    if (!(t->layers = open_csv(t, "layers.csv", 7, layers))) return -1;
    return write_config(t);
}

static int setup(Trainer *t) {
    t->ops = device_select(t->o.device, t->err, sizeof t->err);
    if (!t->ops) return -1;
    if (t->o.precision < 0) t->o.precision = strcmp(t->ops->name, "cuda") ? PREC_FP32 : PREC_MIXED;
    t->comm = comm_init(t->ops, t->o.comm_timeout, t->err, sizeof t->err);
    if (!t->comm) return -1;
    t->rank = comm_rank(t->comm);
    t->world = comm_size(t->comm);
    if (check_shapes(t)) return -1;
    if (make_dirs(t->out_dir, t->err, sizeof t->err)) return -1;
    char ckpt[1200];
    path_in_run(t, ckpt, sizeof ckpt, "ckpt.safetensors");
    const char *state_from = NULL;
    if (t->o.resume && access(ckpt, F_OK) == 0) state_from = ckpt;
    else if (t->o.init_from) state_from = t->o.init_from;
    t->o.resume = state_from == ckpt;
    if (build_model(t, state_from)) return -1;
    if (isnan(t->o.lr)) t->o.lr = t->model.cfg.peak_lr;
    if (!(t->o.lr > 0)) return fail(t, "--lr must be > 0 (got %g)", t->o.lr);
    if (state_from && load_state(t, state_from)) return -1;
    if (t->o.transition_at == TRANSITION_AT_START) t->o.transition_at = (int)t->step;
    if (t->step >= t->o.steps && !t->o.resume)
        return fail(t, "%s is already at step %ld; ask for more --steps (got %d)", state_from, t->step, t->o.steps);
    if (open_data(t)) return -1;
    size_t rows = (size_t)t->micro_b * t->T;
    t->tokens = mallocCheck(rows * sizeof(int));
    t->targets = mallocCheck(rows * sizeof(int));
    if (t->o.shared_stream) {
        t->pool_tokens = mallocCheck((size_t)t->o.batch * t->T * sizeof(int));
        t->pool_targets = mallocCheck((size_t)t->o.batch * t->T * sizeof(int));
    }
    t->peak_flops = device_peak_flops(t->ops, (Precision)t->o.precision, t->peak_source, sizeof t->peak_source);
    if (t->o.eval_every <= 0) t->o.eval_every = t->o.steps / 10 > 0 ? t->o.steps / 10 : 1;
    if (t->o.ckpt_every <= 0) t->o.ckpt_every = t->o.eval_every;
    if (t->o.log_every <= 0) t->o.log_every = 1;
    return open_outputs(t);
}

static void print_banner(const Trainer *t) {
    if (!is_root(t) || t->o.quiet) return;
    const ModelConfig *c = &t->model.cfg;
    printf("model %s | %.2fM params | %s (%s) | %s | world %d\n", c->name,
           t->model.table.total / 1e6, t->ops->name, t->ops->device_name(),
           precision_name(t->model.precision), t->world);
    printf("batch %d x %d (per rank %d = %d micro-batch(es) of %d) | %d steps | peak lr %.2e | warmup %d\n",
           t->o.batch, t->T, t->rows_per_rank, t->o.accum, t->micro_b, t->o.steps, t->o.lr, warmup_steps(&t->o));
    printf("data: train %s (%s, %.1fM tokens) | val %s (%s)\n", t->o.train_data, dataset_label(t->train),
           dataset_num_tokens(t->train) / 1e6, t->o.val_data, dataset_label(t->val));
    printf("MFU against %s | run dir %s%s\n", t->peak_source, t->out_dir,
           t->o.resume ? " (resumed)" : "");
    if (t->step > 0) printf("starting at step %ld\n", t->step);
    fflush(stdout);
}

static void teardown(Trainer *t) {
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
}

// A non-finite loss, gradient or eval loss ends the run: it is recorded as
// diverged at that step and no checkpoint is written from the bad weights.
static int record_divergence(Trainer *t, const char *what, long at, double last_good_eval) {
    char msg[200], ckpt[1200];
    path_in_run(t, ckpt, sizeof ckpt, "ckpt.safetensors");
    snprintf(msg, sizeof msg, "non-finite %s at step %ld; %s", what, at,
             access(ckpt, F_OK) == 0 ? "last good checkpoint kept" : "no checkpoint was saved before it");
    if (is_root(t)) fprintf(stderr, "suite train: diverged: %s\n", msg);
    write_status(t, "diverged", last_good_eval, at, msg);
    return EXIT_DIVERGED;
}

static int run_loop(Trainer *t) {
    double start = monotonic_seconds(), avg = 0;
    long first_step = t->step;
    double last_eval = NAN;
    while (t->step < t->o.steps) {
        if (maybe_transition(t)) return EXIT_ERROR;
        double t0 = monotonic_seconds();
        StepResult r = train_step(t, t->o.lr);
        t->step++;
        double dt = monotonic_seconds() - t0;
        avg = t->step - first_step == 1 ? dt : 0.9 * avg + 0.1 * dt;
        log_step(t, &r, dt, monotonic_seconds() - start, avg);
        if (!isfinite(r.loss) || !isfinite(r.grad_norm)) {
            t->step--;  // the failed update was not applied
            return record_divergence(t, isfinite(r.loss) ? "gradient norm" : "loss", t->step + 1, last_eval);
        }
        if (t->step % t->o.eval_every == 0 || t->step == t->o.steps) {
            double eval = evaluate(t);
            log_eval(t, eval);
            if (!isfinite(eval)) return record_divergence(t, "eval loss", t->step, last_eval);
            last_eval = eval;
        }
        if (t->step % t->o.ckpt_every == 0 || t->step == t->o.steps) {
            if (save_checkpoint(t)) return EXIT_ERROR;
            write_status(t, t->step == t->o.steps ? "finished" : "running", last_eval, -1, NULL);
        }
        if (t->step == t->o.stop_after && t->step < t->o.steps) {
            if (is_root(t) && !t->o.quiet)
                printf("stopping after step %ld as asked; --resume continues from the last checkpoint\n", t->step);
            return EXIT_FINISHED;
        }
    }
    return EXIT_FINISHED;
}

int train_run(const TrainOptions *opts) {
    Trainer *t = callocCheck(1, sizeof(Trainer));
    t->o = *opts;
    snprintf(t->out_dir, sizeof t->out_dir, "%s", opts->out_dir);
    int rc = EXIT_ERROR;
    if (setup(t) == 0) {
        print_banner(t);
        write_status(t, "running", NAN, -1, NULL);
        rc = run_loop(t);
        if (rc == EXIT_ERROR) write_status(t, "failed", NAN, -1, t->err);
    }
    if (rc == EXIT_ERROR) fprintf(stderr, "suite train: %s\n", t->err);
    // A rank failing alone must not finalize: its peers wait in a collective.
    // Exiting without MPI_Finalize makes the launcher end the whole job.
    if (rc == EXIT_ERROR && t->world > 1) exit(EXIT_ERROR);
    teardown(t);
    free(t);
    return rc;
}
