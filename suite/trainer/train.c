// The training loop: steps, evals, checkpoints, divergence, the MoT -> TC switch.
#include "suite/trainer/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels/base/clock.h"
#include "kernels/common.h"
#include "suite/timefmt.h"
#include "suite/trainer/train_internal.h"

// ---- learning rate (SPEC §4) ------------------------------------------------

// LR for the update that completes step+1: linear warmup, then cosine from peak
// to final_lr_frac*peak at the last step.
static float lr_at(const TrainOptions *o, float peak, long step) {
    int warmup = o->warmup;  // resolved by setup
    if (step < warmup) return peak * (float)(step + 1) / (float)warmup;
    float floor = peak * o->final_lr_frac;
    long span = o->steps - warmup;
    double progress = span > 0 ? (double)(step - warmup) / (double)span : 1.0;
    if (progress > 1.0) progress = 1.0;
    return floor + (peak - floor) * 0.5f * (float)(1.0 + cos(M_PI * progress));
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
    if (precision_bf16_state(m->precision)) ops->round_bf16(m->grads, n);
    r.grad_norm = sqrt(ops->sumsq(m->grads, n));
    r.lr = lr_at(&t->o, peak_lr, t->step);
    if (!isfinite(r.loss) || !isfinite(r.grad_norm)) return r;  // caller records divergence
    float clip_scale = r.grad_norm > t->o.clip ? (float)(t->o.clip / r.grad_norm) : 1.0f;
    ops->adamw(m->params, m->grads, t->adam_m, t->adam_v, n, r.lr, 0.9f, 0.999f, 1e-8f,
               t->o.weight_decay, (int)(t->step + 1), clip_scale,
               precision_bf16_state(m->precision));
    return r;
}

static void log_step(Trainer *t, const StepResult *r, double step_seconds, double elapsed,
                     double avg_step_seconds) {
    if (!is_root(t)) return;
    double tokens_per_s = (double)t->o.batch * t->T / step_seconds;
    double mfu = tokens_per_s * model_flops_per_token(&t->model.cfg, t->T) / (t->peak_flops * t->world);
    const double values[N_METRICS_COLS] = {
        [METRICS_STEP] = (double)t->step, [METRICS_LOSS] = r->loss, [METRICS_CE_LOSS] = r->ce,
        [METRICS_AUX_LOSS] = r->aux, [METRICS_LR] = r->lr, [METRICS_GRAD_NORM] = r->grad_norm,
        [METRICS_TOKENS_PER_S] = tokens_per_s, [METRICS_MFU] = mfu, [METRICS_ELAPSED_S] = elapsed};
    rundir_log_step(t, values);
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
    int target = model_transition_target(&t->model.cfg);
    if (t->o.transition_at < 0 || t->step != t->o.transition_at || target < 0) return 0;
    rundir_log_eval(t, evaluate(t));
    const char *from = ff_vtable(t->model.cfg.moe_kind)->family;
    if (model_convert_family(&t->model, (FFKind)target, t->err, sizeof t->err)) return -1;
    if (is_root(t) && !t->o.quiet)
        printf("transition at step %ld: %s -> %s\n", t->step, from, ff_vtable((FFKind)target)->family);
    rundir_log_eval(t, evaluate(t));
    return 0;
}

// A non-finite loss, gradient or eval loss ends the run: it is recorded as
// diverged at that step and no checkpoint is written from the bad weights.
static int record_divergence(Trainer *t, const char *what, long at, double last_good_eval) {
    char msg[200], ckpt[1200];
    rundir_path(t, ckpt, sizeof ckpt, RUNDIR_CKPT);
    snprintf(msg, sizeof msg, "non-finite %s at step %ld; %s", what, at,
             access(ckpt, F_OK) == 0 ? "last good checkpoint kept" : "no checkpoint was saved before it");
    if (is_root(t)) fprintf(stderr, "suite train: diverged: %s\n", msg);
    rundir_write_status(t, RUN_STATUS_DIVERGED, last_good_eval, at, msg);
    return RUN_EXIT_DIVERGED;
}

static int run_loop(Trainer *t) {
    double start = monotonic_seconds(), avg = 0;
    long first_step = t->step;
    double last_eval = NAN;
    while (t->step < t->o.steps) {
        if (maybe_transition(t)) return RUN_EXIT_ERROR;
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
            rundir_log_eval(t, eval);
            if (!isfinite(eval)) return record_divergence(t, "eval loss", t->step, last_eval);
            last_eval = eval;
        }
        if (t->step % t->o.ckpt_every == 0 || t->step == t->o.steps) {
            if (rundir_save_checkpoint(t)) return RUN_EXIT_ERROR;
            rundir_write_status(t, t->step == t->o.steps ? RUN_STATUS_FINISHED : RUN_STATUS_RUNNING, last_eval, -1, NULL);
        }
        if (t->step == t->o.stop_after && t->step < t->o.steps) {
            if (is_root(t) && !t->o.quiet)
                printf("stopping after step %ld as asked; --resume continues from the last checkpoint\n", t->step);
            return RUN_EXIT_FINISHED;
        }
    }
    return RUN_EXIT_FINISHED;
}

int train_run(const TrainOptions *opts) {
    Trainer *t = callocCheck(1, sizeof(Trainer));
    t->o = *opts;
    snprintf(t->out_dir, sizeof t->out_dir, "%s", opts->out_dir);
    t->lock_fd = -1;
    int rc = RUN_EXIT_ERROR;
    if (train_options_check(&t->o, t->err, sizeof t->err)) {
        rc = RUN_EXIT_USAGE;  // before anything touches the run directory
    } else if (train_setup(t) == 0) {
        train_print_banner(t);
        rundir_write_status(t, RUN_STATUS_RUNNING, NAN, -1, NULL);
        rc = run_loop(t);
        if (rc == RUN_EXIT_ERROR) rundir_write_status(t, RUN_STATUS_FAILED, NAN, -1, t->err);
    } else {
        rundir_record_setup_failure(t);
    }
    if (rc == RUN_EXIT_ERROR || rc == RUN_EXIT_USAGE) fprintf(stderr, "suite train: %s\n", t->err);
    // A rank failing alone must not finalize: its peers wait in a collective.
    // Exiting without MPI_Finalize makes the launcher end the whole job.
    if (rc == RUN_EXIT_ERROR && t->world > 1) exit(RUN_EXIT_ERROR);
    train_teardown(t);
    free(t);
    return rc;
}
