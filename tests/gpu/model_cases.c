// Whole models on both tables through impls/model.h. Training cases: one step
// (loss and every gradient tensor by name), a 20-step AdamW loss curve, and a
// resume from a checkpoint written after step 10 against the uninterrupted CUDA
// run. Eval cases: the forward-only head passes (mean loss and per-token
// log-probabilities), with MoT's discrete routing and eval-time batch padding.
// A conversion case turns MoT into Token Choice (transition tuning) and steps.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "impls/checkpoint.h"
#include "impls/model.h"
#include "kernels/common.h"
#include "tests/gpu/harness.h"

// Training batches must be multiples of the group size (EC groups 32); STEPS and
// RESUME_AT shrink to QUICK_STEPS and half of it in quick runs.
enum { N_BATCHES = 2, STEPS = 20, RESUME_AT = 10, QUICK_STEPS = 4 };
#define SEED 1234u
#define CLIP_NORM 0.5  // SPEC §4 global-norm clip, so sumsq takes part in every step

// fp32 tolerances for chains of ops (single ops get TOL_FP32):
// a gradient passes through ~30 ops whose fp32 rounding differences compound
#define TOL_MODEL_GRAD 1e-4
// 20 AdamW steps: Adam divides by sqrt(v), amplifying differences in small
// gradients, and a discrete routing decision that sits on a near tie may flip
#define TOL_MODEL_CURVE 1e-3
// CUDA against CUDA; only atomics reorder additions between the two runs
#define TOL_RESUME 1e-4
// mixed/bf16 models: TOL_BF16_STATE for a step (bf16 roundings of activations may
// land on the neighbouring value), twice that over a 20-step curve
#define TOL_MIXED_CURVE 1e-3

typedef enum { CASE_TRAIN, CASE_EVAL, CASE_CONVERT_TO_TC } CaseKind;

typedef struct {
    const char *model;
    Precision precision;
    int B, T;
    CaseKind kind;
    int discrete, pad;  // eval: MoT argmax routing; MoT padding of a B that G does not divide
} ModelCase;

// mot-tiny/32e/16: 512 experts, more than the 32 tokens of a group (the
// interleaved ldc = M*d expert GEMMs of impls/ff_mot.c); T = 64 is tiny's longest.
static const ModelCase MODEL_CASES[] = {
    {"transformer-tiny", PREC_FP32, 32, 16, CASE_TRAIN, 0, 0},
    {"mot-tiny/8e", PREC_FP32, 32, 16, CASE_TRAIN, 0, 0},
    {"ec-tiny/32e", PREC_FP32, 32, 16, CASE_TRAIN, 0, 0},
    {"tc-tiny/32e", PREC_FP32, 32, 16, CASE_TRAIN, 0, 0},
    {"transformer-tiny", PREC_MIXED, 32, 16, CASE_TRAIN, 0, 0},
    {"mot-tiny/8e", PREC_MIXED, 32, 16, CASE_TRAIN, 0, 0},
    {"ec-tiny/32e", PREC_MIXED, 32, 16, CASE_TRAIN, 0, 0},
    {"tc-tiny/32e", PREC_MIXED, 32, 16, CASE_TRAIN, 0, 0},
    {"mot-tiny/8e", PREC_BF16, 32, 16, CASE_TRAIN, 0, 0},
    {"ec-tiny/32e", PREC_BF16, 32, 16, CASE_TRAIN, 0, 0},
    {"mot-tiny/32e/16", PREC_FP32, 32, 64, CASE_TRAIN, 0, 0},
    {"mot-tiny/32e/16", PREC_MIXED, 32, 64, CASE_TRAIN, 0, 0},
    {"mot-tiny/32e-uniform", PREC_MIXED, 32, 16, CASE_TRAIN, 0, 0},
    {"transformer-tiny", PREC_MIXED, 8, 64, CASE_TRAIN, 0, 0},
    {"transformer-tiny", PREC_FP32, 4, 64, CASE_EVAL, 0, 0},
    {"ec-tiny/32e", PREC_MIXED, 32, 64, CASE_EVAL, 0, 0},
    {"mot-tiny/8e", PREC_FP32, 32, 16, CASE_EVAL, 1, 0},
    {"mot-tiny/32e/16", PREC_MIXED, 20, 64, CASE_EVAL, 0, 1},
    {"mot-tiny/8e", PREC_FP32, 12, 16, CASE_EVAL, 1, 1},
    {"mot-tiny/32e", PREC_FP32, 32, 16, CASE_CONVERT_TO_TC, 0, 0},
    {"mot-tiny/32e", PREC_MIXED, 32, 16, CASE_CONVERT_TO_TC, 0, 0},
};

typedef struct {
    int B, T;
    int *tokens[N_BATCHES];   // (B,T)
    int *targets[N_BATCHES];  // (B,T), a few -1 (ignored)
} Batches;

static Batches make_batches(Harness *h, int B, int T, int vocab) {
    Batches b = {.B = B, .T = T};
    for (int k = 0; k < N_BATCHES; k++) {
        b.tokens[k] = mallocCheck((size_t)B * T * sizeof(int));
        b.targets[k] = mallocCheck((size_t)B * T * sizeof(int));
        for (int i = 0; i < B * T; i++) {
            b.tokens[k][i] = (int)(harness_next(h) % (uint64_t)vocab);
            b.targets[k][i] = i % 13 == 5 ? -1 : (int)(harness_next(h) % (uint64_t)vocab);
        }
    }
    return b;
}

static void free_batches(Batches *b) {
    for (int k = 0; k < N_BATCHES; k++) {
        free(b->tokens[k]);
        free(b->targets[k]);
    }
}

// A model with its AdamW moments on one table.
typedef struct {
    Model model;
    float *adam_m, *adam_v;  // (table.total)
} Trainee;

static int trainee_create(Trainee *t, const ModelConfig *cfg, const ModelCase *c, const Ops *ops,
                          uint64_t seed, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    if (model_create(&t->model, cfg, ops, c->precision, seed, err, errlen)) return -1;
    t->model.discrete_eval = c->discrete;
    for (int l = 0; l < cfg->n_layers; l++) t->model.ff[l].cfg.allow_pad = c->pad;
    if (model_reserve(&t->model, c->B, c->T, err, errlen)) return -1;
    size_t bytes = t->model.table.total * sizeof(float);
    t->adam_m = ops->alloc(bytes);
    t->adam_v = ops->alloc(bytes);
    return 0;
}

static void trainee_free(Trainee *t) {
    const Ops *ops = t->model.ops;
    if (ops) {
        ops->free(t->adam_m);
        ops->free(t->adam_v);
    }
    model_free(&t->model);
}

// Optimizer steps first..last (1-based), as the trainer does them with a
// constant LR: zero grads, forward+backward, clip to CLIP_NORM, AdamW.
static void train(Trainee *t, const Batches *b, int first, int last, double *losses) {
    Model *m = &t->model;
    const Ops *ops = m->ops;
    size_t n = m->table.total;
    for (int step = first; step <= last; step++) {
        model_zero_grad(m);
        int k = step % N_BATCHES;
        losses[step - 1] = model_forward_backward(m, b->tokens[k], b->targets[k], 1.0f, NULL);
        double norm = sqrt(ops->sumsq(m->grads, n));
        float grad_scale = norm > CLIP_NORM ? (float)(CLIP_NORM / norm) : 1.0f;
        ops->adamw(m->params, m->grads, t->adam_m, t->adam_v, n, m->cfg.peak_lr, 0.9f, 0.999f,
                   1e-8f, 0.1f, step, grad_scale, m->precision == PREC_BF16);
    }
}

static double rel_diff(double a, double b) { return a != 0.0 ? fabs(a - b) / fabs(a) : fabs(b); }

// Worst relative difference between two loss curves over steps first..last.
static double curve_error(const double *a, const double *b, int first, int last) {
    double err = 0.0;
    for (int s = first; s <= last; s++) err = worst_error(err, rel_diff(a[s - 1], b[s - 1]));
    return err;
}

// Every gradient tensor by name: the worst one is reported (and any failing
// one is printed below the row). Gradients of the two tables must be current.
static void check_gradients(Harness *h, const Model *cpu, const Model *gpu, const char *label,
                            double tol) {
    const ParamTable *pt = &cpu->table;
    double worst = -1.0;
    const char *worst_name = "";
    for (int i = 0; i < pt->count; i++) {
        const ParamInfo *p = &pt->items[i];
        Twin view = {.cpu = cpu->grads + p->offset, .gpu = gpu->grads + p->offset, .n = p->numel};
        double err = twin_error(h, &view);
        if (!(err <= tol)) printf("    gradient %s: rel.err %.3e\n", p->name, err);
        if (!(err <= worst)) {
            worst = err;
            worst_name = p->name;
        }
    }
    char size[192];
    snprintf(size, sizeof size, "%s, %d tensors, worst %s", label, pt->count, worst_name);
    harness_report(h, "model step gradients", size, worst, tol);
}

// The first step from identical weights: loss, aux loss and every gradient.
static void check_step(Harness *h, Trainee *cpu, Trainee *gpu, const Batches *b,
                       const char *label, double tol_loss, double tol_grad) {
    double aux_cpu = 0.0, aux_gpu = 0.0;
    model_zero_grad(&cpu->model);
    model_zero_grad(&gpu->model);
    double loss_cpu = model_forward_backward(&cpu->model, b->tokens[0], b->targets[0], 1.0f, &aux_cpu);
    double loss_gpu = model_forward_backward(&gpu->model, b->tokens[0], b->targets[0], 1.0f, &aux_gpu);
    harness_report(h, "model step loss", label, rel_diff(loss_cpu, loss_gpu), tol_loss);
    if (cpu->model.cfg.moe_kind == FF_TC)
        harness_report(h, "model step aux loss", label, rel_diff(aux_cpu, aux_gpu), tol_loss);
    check_gradients(h, &cpu->model, &gpu->model, label, tol_grad);
}

// Train CUDA steps 1..steps saving a checkpoint after resume_at into `path`;
// losses into curve.
static int train_with_checkpoint(Trainee *gpu, const Batches *b, int steps, int resume_at,
                                 const char *path, double *curve, char *err, size_t errlen) {
    train(gpu, b, 1, resume_at, curve);
    TrainState ts = {.step = resume_at, .adam_m = gpu->adam_m, .adam_v = gpu->adam_v};
    if (checkpoint_save(path, &gpu->model, &ts, err, errlen)) return -1;
    train(gpu, b, resume_at + 1, steps, curve);
    return 0;
}

// A fresh CUDA model (other seed, so only the load can make it match) resumed
// from path, trained to steps.
static int resume(const ModelCase *c, const ModelConfig *cfg, const Ops *ops, const Batches *b,
                  int steps, int resume_at, const char *path, double *curve, char *err,
                  size_t errlen) {
    Trainee t;
    int rc = trainee_create(&t, cfg, c, ops, SEED + 1, err, errlen);
    if (!rc) {
        TrainState ts = {.adam_m = t.adam_m, .adam_v = t.adam_v};
        rc = checkpoint_load(path, &t.model, &ts, err, errlen);
        if (!rc && ts.step != resume_at) {
            snprintf(err, errlen, "%.400s: step %ld stored, %d expected", path, ts.step, resume_at);
            rc = -1;
        }
        if (!rc) train(&t, b, (int)ts.step + 1, steps, curve);
    }
    trainee_free(&t);
    return rc;
}

// The loss curve on both tables, then the CUDA run resumed from its checkpoint.
static void check_curve_and_resume(Harness *h, const ModelCase *c, const ModelConfig *cfg,
                                   Trainee *cpu, Trainee *gpu, const Batches *b, const char *label,
                                   const char *dir) {
    int fp32 = c->precision == PREC_FP32;
    int steps = h->quick ? QUICK_STEPS : STEPS, resume_at = steps / 2;
    char err[512], path[512], size[160], check[48];
    double curve_cpu[STEPS], curve_gpu[STEPS], curve_resumed[STEPS];
    train(cpu, b, 1, steps, curve_cpu);
    snprintf(path, sizeof path, "%s/resume.safetensors", dir);
    if (train_with_checkpoint(gpu, b, steps, resume_at, path, curve_gpu, err, sizeof err)) {
        printf("    %s\n", err);
        harness_report(h, "model checkpoint save", label, INFINITY, 0.0);
        return;
    }
    snprintf(size, sizeof size, "%s, loss %.4f -> %.4f", label, curve_cpu[0], curve_cpu[steps - 1]);
    snprintf(check, sizeof check, "model %d-step loss curve", steps);
    harness_report(h, check, size, curve_error(curve_cpu, curve_gpu, 1, steps),
                   fp32 ? TOL_MODEL_CURVE : TOL_MIXED_CURVE);
    double resumed_err = INFINITY;
    if (resume(c, cfg, h->gpu, b, steps, resume_at, path, curve_resumed, err, sizeof err))
        printf("    %s\n", err);
    else
        resumed_err = curve_error(curve_gpu, curve_resumed, resume_at + 1, steps);
    snprintf(check, sizeof check, "model resume at step %d", resume_at);
    harness_report(h, check, label, resumed_err, fp32 ? TOL_RESUME : TOL_BF16_STATE);
    unlink(path);
}

// Forward-only head passes: the mean loss and every position's log-probability.
static void check_eval(Harness *h, Trainee *cpu, Trainee *gpu, const Batches *b, const char *label,
                       double tol) {
    double loss_cpu = model_eval_loss(&cpu->model, b->tokens[0], b->targets[0]);
    double loss_gpu = model_eval_loss(&gpu->model, b->tokens[0], b->targets[0]);
    harness_report(h, "model eval loss", label, rel_diff(loss_cpu, loss_gpu), tol);
    size_t n = (size_t)b->B * b->T;
    float *logp = mallocCheck(2 * n * sizeof(float));  // cpu, then gpu (host arrays)
    model_token_logprobs(&cpu->model, b->tokens[1], b->targets[1], logp);
    model_token_logprobs(&gpu->model, b->tokens[1], b->targets[1], logp + n);
    double diff = 0.0, ref = 0.0;
    for (size_t i = 0; i < n; i++) {
        diff += ((double)logp[i] - logp[n + i]) * ((double)logp[i] - logp[n + i]);
        ref += (double)logp[i] * logp[i];
    }
    harness_report(h, "model eval token logprobs", label, ref > 0.0 ? sqrt(diff / ref) : sqrt(diff), tol);
    free(logp);
}

static void case_label(char *out, size_t len, const ModelCase *c) {
    snprintf(out, len, "%s %s B=%d T=%d%s%s%s", c->model, precision_name(c->precision), c->B, c->T,
             c->discrete ? " discrete" : "", c->pad ? " padded" : "",
             c->kind == CASE_CONVERT_TO_TC ? " -> tc" : "");
}

static void run_model_case(Harness *h, const ModelCase *c, const char *dir) {
    char label[112], err[512];
    case_label(label, sizeof label, c);
    int fp32 = c->precision == PREC_FP32;
    ModelConfig cfg;
    Trainee cpu, gpu;
    memset(&cpu, 0, sizeof cpu);
    memset(&gpu, 0, sizeof gpu);
    int failed = model_config_by_name(c->model, &cfg, err, sizeof err) ||
                 trainee_create(&cpu, &cfg, c, h->cpu, SEED, err, sizeof err) ||
                 trainee_create(&gpu, &cfg, c, h->gpu, SEED, err, sizeof err);
    if (!failed && c->kind == CASE_CONVERT_TO_TC)
        failed = model_convert_family(&cpu.model, FF_TC, err, sizeof err) ||
                 model_convert_family(&gpu.model, FF_TC, err, sizeof err);
    if (failed) {
        printf("    %s\n", err);
        harness_report(h, "model setup", label, INFINITY, 0.0);
    } else {
        Batches b = make_batches(h, c->B, c->T, cfg.vocab_size);
        if (c->kind == CASE_EVAL) {
            check_eval(h, &cpu, &gpu, &b, label, fp32 ? TOL_MODEL_GRAD : TOL_BF16_STATE);
        } else {
            check_step(h, &cpu, &gpu, &b, label, fp32 ? TOL_FP32 : TOL_BF16_STATE,
                       fp32 ? TOL_MODEL_GRAD : TOL_BF16_STATE);
            // The step above only accumulated gradients; training starts from the
            // same initial weights on both sides.
            if (c->kind == CASE_TRAIN) check_curve_and_resume(h, c, &cfg, &cpu, &gpu, &b, label, dir);
        }
        free_batches(&b);
    }
    trainee_free(&cpu);
    trainee_free(&gpu);
}

void run_model_cases(Harness *h) {
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/mot-test-gpu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) die("cannot create a temporary directory from %s (set TMPDIR)", dir);
    for (size_t i = 0; i < sizeof MODEL_CASES / sizeof MODEL_CASES[0]; i++)
        if (!h->model_filter || strstr(MODEL_CASES[i].model, h->model_filter))
            run_model_case(h, &MODEL_CASES[i], dir);
    rmdir(dir);
}
