// Judging published claims from results, against the seed-to-seed noise
// (results_claims.h states the rules; experiments/README.md explains them).
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite/lab/results_claims.h"

enum { MAX_POINTS = 4096, MAX_SEEDS = EXP_MAX_SEEDS };

static void appendf(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t len, const char *fmt, ...) {
    size_t used = strlen(buf);
    if (used + 1 >= len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

typedef struct {
    Verdict verdict;  // HOLDS means "measured"; NOT_RUN / DIVERGED say why not
    double value;     // mean over the seed replicates
    double var;       // variance of that mean (s^2/n; accuracy: se^2/n); NAN: unknown
    int n;            // replicates measured
    char why[96];
} Measure;

static int is_loss(const char *metric) {
    return !strcmp(metric, "eval_loss") || !strcmp(metric, "train_loss");
}

// Is the run there and finished (in at least one replicate)? NOT_RUN / DIVERGED otherwise.
static Measure run_state(const ResultSet *rs, const char *run) {
    Measure m = {VERDICT_HOLDS, NAN, NAN, 0, ""};
    const RunSummary *s;
    RunStatus st = results_run_status(rs, run, &s);
    if (st == RUN_STATUS_NONE) {
        m.verdict = VERDICT_NOT_RUN;
        snprintf(m.why, sizeof m.why, "%.60s not run", run);
    } else if (st == RUN_STATUS_DIVERGED) {
        m.verdict = VERDICT_DIVERGED;
        snprintf(m.why, sizeof m.why, "%.60s diverged at step %ld", run, s->diverged_at);
    } else if (st != RUN_STATUS_FINISHED) {
        m.verdict = VERDICT_NOT_RUN;
        snprintf(m.why, sizeof m.why, "%.60s %s at step %ld", run, run_status_name(st), s->steps);
    }
    return m;
}

// Mean accuracy over the scored replicates; the variance of that mean from the
// binomial standard errors.
static void measure_accuracy(const ResultSet *rs, const char *run, const char *metric, Measure *m) {
    int norm = !strncmp(metric, "acc_norm:", 9);
    const char *task = strchr(metric, ':') + 1;
    double sum = 0, var = 0;
    for (int i = 0; i < rs->n_scores; i++) {
        const TaskScore *t = &rs->scores[i];
        if (strcmp(t->run, run) || strcmp(t->task, task) || strcmp(t->status, "ok")) continue;
        sum += norm ? t->acc_norm : t->acc;
        double se = norm ? t->acc_norm_se : t->acc_se;
        var += se * se;
        m->n++;
    }
    if (m->n == 0) {
        m->verdict = VERDICT_NOT_RUN;
        snprintf(m->why, sizeof m->why, "%.60s: %s not scored%s", run, task,
                 results_find_score(rs, run, task) && !strcmp(task, "hellaswag")
                     ? " (no hellaswag_val.jsonl)"
                     : "");
        return;
    }
    m->value = sum / m->n;
    m->var = var / ((double)m->n * m->n);
}

static Measure measure(const ResultSet *rs, const char *run, const char *metric) {
    Measure m = run_state(rs, run);
    if (m.verdict != VERDICT_HOLDS) return m;
    if (is_loss(metric)) {
        SeedStats st = results_run_stats(rs, run, metric);
        m.value = st.mean;
        m.n = st.n;
        m.var = st.n >= 2 ? st.std * st.std / st.n : NAN;
    } else {
        measure_accuracy(rs, run, metric, &m);
        if (m.verdict != VERDICT_HOLDS) return m;
    }
    if (isnan(m.value)) {
        m.verdict = VERDICT_NOT_RUN;
        snprintf(m.why, sizeof m.why, "%.60s has no %s", run, metric);
    }
    return m;
}

// ---- the noise floor ---------------------------------------------------------------

// Worse of two verdicts of parts of one claim: fails > inconclusive > holds.
static Verdict worse(Verdict a, Verdict b) {
    if (a == VERDICT_FAILS || b == VERDICT_FAILS) return VERDICT_FAILS;
    if (a == VERDICT_INCONCLUSIVE || b == VERDICT_INCONCLUSIVE) return VERDICT_INCONCLUSIVE;
    return VERDICT_HOLDS;
}

// gain: how far the claim's direction is ahead (> 0 agrees with the claim); sigma
// its standard deviation (NAN: one seed). k: sigmas of the floor. noninferior:
// anything above -floor holds (the "recovers" rule).
static Verdict judge_gain(const Claim *c, const Experiment *e, double gain, double sigma, double k,
                          int noninferior) {
    double floor = c->tolerance;
    if (isnan(sigma) && !scale_info(e->scale)->one_seed_judged) return VERDICT_INCONCLUSIVE;
    if (!isnan(sigma) && k * sigma > floor) floor = k * sigma;
    if (gain > floor || (noninferior && gain >= -floor)) return VERDICT_HOLDS;
    return gain < -floor ? VERDICT_FAILS : VERDICT_INCONCLUSIVE;
}

static double sigma_of(const Measure *a, const Measure *b) { return sqrt(a->var + b->var); }

// Say why a verdict without sigma is inconclusive.
static void note_one_seed(ClaimResult *out, const Experiment *e, double sigma) {
    if (isnan(sigma) && !scale_info(e->scale)->one_seed_judged)
        appendf(out->measured, sizeof out->measured, " (1 seed: no noise estimate)");
}

// "diff D sigma S" of a against b (a - b in the metric's units); "(paired, n
// seeds)" when sigma comes from the seed-by-seed differences.
static void print_diff(char *buf, size_t len, const char *metric, double diff, double sigma,
                       int paired) {
    const char *f = is_loss(metric) ? "diff %+.4f sigma %.4f" : "diff %+.1f sigma %.1f";
    if (isnan(sigma)) f = is_loss(metric) ? "diff %+.4f sigma ?" : "diff %+.1f sigma ?";
    appendf(buf, len, f, diff, sigma);
    if (paired) appendf(buf, len, " (paired, %d seeds)", paired);
}

// The claim's i-th run name: runs first, then reference.
static const char *claim_run(const Claim *c, int i) {
    return i < c->n_runs ? c->runs[i] : c->reference[i - c->n_runs];
}

// Seeds pair up (results_paired_stats) only between runs trained on the same
// batches: the same data, batch and sequence length.
static int same_batches(const Experiment *e, const char *a, const char *b) {
    int ia = experiment_find_run(e, a), ib = experiment_find_run(e, b);
    if (ia < 0 || ib < 0 || strcmp(e->runs[ia].data, e->runs[ib].data)) return 0;
    static const char *const keys[] = {"batch", "seq_len"};
    for (int k = 0; k < 2; k++) {
        const char *x = run_value(&e->runs[ia], keys[k]), *y = run_value(&e->runs[ib], keys[k]);
        if (!x != !y || (x && strcmp(x, y))) return 0;
    }
    return 1;
}

// Pairs (a better than b) judged one by one; the claim takes the worst. Losses of
// runs with the same seeds are compared seed by seed.
static ClaimResult judge_pairs(const Claim *c, const Experiment *e, const ResultSet *rs,
                               const Measure *m, const int (*pairs)[2], int n_pairs,
                               int noninferior) {
    ClaimResult out = {VERDICT_HOLDS, ""};
    int loss = is_loss(c->metric), one_seed = 0;
    double k = loss ? 2 : 1;  // accuracies: within one binomial standard error
    for (int p = 0; p < n_pairs; p++) {
        const Measure *a = &m[pairs[p][0]], *b = &m[pairs[p][1]];
        const char *name_a = claim_run(c, pairs[p][0]), *name_b = claim_run(c, pairs[p][1]);
        if (p) appendf(out.measured, sizeof out.measured, "; ");
        if (b->verdict == VERDICT_DIVERGED) {  // a diverged reference is beaten
            appendf(out.measured, sizeof out.measured, "%s", b->why);
            continue;
        }
        appendf(out.measured, sizeof out.measured, loss ? "%.4f vs %.4f " : "%.1f vs %.1f ",
                a->value, b->value);
        double sigma = sigma_of(a, b), diff = a->value - b->value;
        int paired = 0;
        if (loss && same_batches(e, name_a, name_b)) {
            SeedStats d = results_paired_stats(rs, name_a, name_b, c->metric);
            if (d.n >= 2) diff = d.mean, sigma = d.std / sqrt(d.n), paired = d.n;
        }
        print_diff(out.measured, sizeof out.measured, c->metric, diff, sigma, paired);
        if (isnan(sigma)) one_seed = 1;
        out.verdict = worse(out.verdict,
                            judge_gain(c, e, loss ? -diff : diff, sigma, k, noninferior));
    }
    note_one_seed(&out, e, one_seed ? NAN : 0);
    return out;
}

static ClaimResult judge_better(const Claim *c, const Experiment *e, const ResultSet *rs,
                                const Measure *m, int n) {
    int pairs[CLAIM_MAX_RUNS * CLAIM_MAX_RUNS][2], n_pairs = 0;
    for (int i = 0; i < c->n_runs; i++)
        for (int j = c->n_runs; j < n; j++) {
            pairs[n_pairs][0] = i;
            pairs[n_pairs++][1] = j;
        }
    int noninferior = c->rule == RULE_RECOVERS || c->rule == RULE_MATCHES;
    return judge_pairs(c, e, rs, m, (const int(*)[2])pairs, n_pairs, noninferior);
}

static ClaimResult judge_improving(const Claim *c, const Experiment *e, const ResultSet *rs,
                                   const Measure *m) {
    int pairs[CLAIM_MAX_RUNS][2], n_pairs = 0;
    for (int i = 1; i < c->n_runs; i++) {
        pairs[n_pairs][0] = i;
        pairs[n_pairs++][1] = i - 1;
    }
    return judge_pairs(c, e, rs, m, (const int(*)[2])pairs, n_pairs, 0);
}

// The first pair's bf16 loss rises more than the second pair's (m: a mixed/bf16, b mixed/bf16).
static ClaimResult judge_degrades_more(const Claim *c, const Experiment *e, const Measure *m,
                                       int a_bf16_diverged) {
    ClaimResult out = {VERDICT_HOLDS, ""};
    double rise_b = m[3].value - m[2].value;
    if (a_bf16_diverged) {
        snprintf(out.measured, sizeof out.measured, "%s; %.60s rises %+.4f", m[1].why,
                 c->reference[1], rise_b);
        return out;
    }
    double rise_a = m[1].value - m[0].value;
    double sigma = sqrt(m[0].var + m[1].var + m[2].var + m[3].var);
    snprintf(out.measured, sizeof out.measured, "bf16 rise %+.4f vs %+.4f: ", rise_a, rise_b);
    print_diff(out.measured, sizeof out.measured, c->metric, rise_a - rise_b, sigma, 0);
    out.verdict = judge_gain(c, e, rise_a - rise_b, sigma, 2, 0);
    note_one_seed(&out, e, sigma);
    return out;
}

// ---- curves: speedup and the transition spike ---------------------------------------

// First step (linearly interpolated between evals) where the curve reaches target; -1 if never.
static double steps_to_reach(const CurvePoint *pts, int n, double target) {
    for (int i = 0; i < n; i++) {
        if (!(pts[i].loss <= target)) continue;
        if (i == 0 || pts[i - 1].loss == pts[i].loss) return (double)pts[i].step;
        double frac = (pts[i - 1].loss - target) / (pts[i - 1].loss - pts[i].loss);
        return pts[i - 1].step + frac * (double)(pts[i].step - pts[i - 1].step);
    }
    return -1;
}

// Mean and standard deviation of the mean of x[0..n).
static void mean_sigma(const double *x, int n, double *mean, double *sigma) {
    double s = 0, sq = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = n ? s / n : NAN;
    for (int i = 0; i < n; i++) sq += (x[i] - *mean) * (x[i] - *mean);
    *sigma = n >= 2 ? sqrt(sq / (n - 1) / n) : NAN;
}

typedef struct {
    double ratio, sigma, reach_step;
    int n;
} Speedup;

// The step speedup of run over dense: from the seed-mean curves, sigma from the
// per-seed ratios (seed s of the run against seed s of dense).
static Speedup step_speedup(const ResultSet *rs, const char *run, const char *dense,
                            double dense_final, long dense_steps) {
    static CurvePoint pts[MAX_POINTS];
    Speedup sp = {NAN, NAN, -1, 0};
    int n = results_mean_curve(rs->evals, rs->n_evals, run, "", -1, pts, MAX_POINTS);
    sp.reach_step = steps_to_reach(pts, n, dense_final);
    if (sp.reach_step <= 0) return sp;
    sp.ratio = dense_steps / sp.reach_step;
    long seeds[MAX_SEEDS];
    double ratios[MAX_SEEDS];
    int n_seeds = results_run_seeds(rs, dense, seeds, MAX_SEEDS);
    for (int k = 0; k < n_seeds; k++) {
        const RunSummary *d = NULL;
        for (int i = 0; i < rs->n_runs; i++)
            if (!strcmp(rs->runs[i].run, dense) && rs->runs[i].seed == seeds[k]) d = &rs->runs[i];
        if (!d || d->status != RUN_STATUS_FINISHED) continue;
        n = results_mean_curve(rs->evals, rs->n_evals, run, "", seeds[k], pts, MAX_POINTS);
        double s = steps_to_reach(pts, n, d->final_eval_loss);
        if (s > 0) ratios[sp.n++] = d->steps / s;
    }
    double unused;
    mean_sigma(ratios, sp.n, &unused, &sp.sigma);
    return sp;
}

static ClaimResult judge_speedup(const Claim *c, const Experiment *e, const ResultSet *rs,
                                 const Measure *ref) {
    ClaimResult out = {VERDICT_FAILS, ""};
    const RunSummary *dense;
    results_run_status(rs, c->reference[0], &dense);
    Speedup best = {NAN, NAN, -1, 0};
    const char *best_run = NULL;
    for (int i = 0; i < c->n_runs; i++) {
        Speedup sp = step_speedup(rs, c->runs[i], c->reference[0], ref->value, dense->steps);
        if (sp.reach_step > 0 && (!best_run || sp.ratio > best.ratio)) best = sp, best_run = c->runs[i];
    }
    if (!best_run) {
        snprintf(out.measured, sizeof out.measured, "no MoT run reached %.4f (dense final)",
                 ref->value);
        return out;
    }
    // Wall clock: dense's whole run against the run's time to the same loss.
    SeedStats wd = results_run_stats(rs, c->reference[0], "elapsed_s");
    SeedStats wr = results_run_stats(rs, best_run, "elapsed_s");
    const RunSummary *r;
    results_run_status(rs, best_run, &r);
    double wall = wd.mean / (wr.mean * best.reach_step / (double)r->steps);
    char wall_text[32] = "?", sigma_text[32] = "?";  // "?": one seed, or no wall times
    if (isfinite(wall)) snprintf(wall_text, sizeof wall_text, "%.2fx", wall);
    if (!isnan(best.sigma)) snprintf(sigma_text, sizeof sigma_text, "%.2f", best.sigma);
    snprintf(out.measured, sizeof out.measured,
             "step speedup %.2fx sigma %s (%.60s reaches %.4f at step %.0f of %ld); "
             "wall-clock %s",
             best.ratio, sigma_text, best_run, ref->value, best.reach_step, dense->steps,
             wall_text);
    if (scale_info(e->scale)->one_seed_judged) {
        if (best.ratio >= strtod(c->published, NULL) - c->tolerance) out.verdict = VERDICT_HOLDS;
        return out;
    }
    Claim against_1x = *c;  // below paper scale: faster than dense at all, beyond the noise
    against_1x.tolerance = 0;
    out.verdict = judge_gain(&against_1x, e, best.ratio - 1, best.sigma, 2, 0);
    note_one_seed(&out, e, best.sigma);
    return out;
}

// The jump at the switch of run's seed (seed < 0: the seed-mean curves): the first
// TC eval minus the MoT eval at the same step. NAN when there is none.
static double switch_jump(const ResultSet *rs, const char *run, long seed, long *step) {
    static CurvePoint tc[MAX_POINTS], mot[MAX_POINTS];
    int n_tc = results_mean_curve(rs->evals, rs->n_evals, run, "tc", seed, tc, MAX_POINTS);
    int n_mot = results_mean_curve(rs->evals, rs->n_evals, run, "mot", seed, mot, MAX_POINTS);
    for (int i = 0; n_tc && i < n_mot; i++)
        if (mot[i].step == tc[0].step) {
            *step = tc[0].step;
            return tc[0].loss - mot[i].loss;
        }
    return NAN;
}

static ClaimResult judge_spike(const Claim *c, const Experiment *e, const ResultSet *rs) {
    ClaimResult out = {VERDICT_NOT_RUN, ""};
    long step = 0, seeds[MAX_SEEDS];
    double jumps[MAX_SEEDS], jump = switch_jump(rs, c->runs[0], -1, &step), mean, sigma;
    if (isnan(jump)) {
        snprintf(out.measured, sizeof out.measured, "%.60s has no eval in both modes at the switch",
                 c->runs[0]);
        return out;
    }
    int n = 0, n_seeds = results_run_seeds(rs, c->runs[0], seeds, MAX_SEEDS);
    for (int k = 0; k < n_seeds; k++) {
        long s;
        double j = switch_jump(rs, c->runs[0], seeds[k], &s);
        if (!isnan(j)) jumps[n++] = j;
    }
    mean_sigma(jumps, n, &mean, &sigma);
    snprintf(out.measured, sizeof out.measured, "jump at step %ld: ", step);
    print_diff(out.measured, sizeof out.measured, c->metric, jump, sigma, 0);
    out.verdict = judge_gain(c, e, jump, sigma, 2, 0);
    note_one_seed(&out, e, sigma);
    return out;
}

// ---- one claim ------------------------------------------------------------------------

// N/A with the scales the claim is checked at, when e's scale is not one of them.
static int not_at_this_scale(const Claim *c, const Experiment *e, ClaimResult *out) {
    if (c->scales & (1u << e->scale)) return 0;
    snprintf(out->measured, sizeof out->measured, "checked at");
    for (int s = 0; s < N_SCALES; s++)
        if (c->scales & (1u << s)) appendf(out->measured, sizeof out->measured, " %s", scale_name(s));
    appendf(out->measured, sizeof out->measured, " scale only");
    return 1;
}

// A run of the claim (index i: runs first, then reference) whose divergence is the
// claim's point rather than a missing result.
static int divergence_expected(const Claim *c, int i) {
    if (c->rule == RULE_DEGRADES_MORE) return i == 1;  // A in bf16
    int beats = c->rule == RULE_BETTER || c->rule == RULE_MATCHES;
    return beats && is_loss(c->metric) && i >= c->n_runs;
}

static ClaimResult judge(const Claim *c, const Experiment *e, const ResultSet *rs,
                         const Measure *m, int n) {
    ClaimResult out = {VERDICT_FAILS, ""};
    switch (c->rule) {
        case RULE_BETTER:
        case RULE_MATCHES:
        case RULE_RECOVERS: return judge_better(c, e, rs, m, n);
        case RULE_IMPROVING: return judge_improving(c, e, rs, m);
        case RULE_SPEEDUP: return judge_speedup(c, e, rs, &m[c->n_runs]);
        case RULE_DEGRADES_MORE:
            return judge_degrades_more(c, e, m, m[1].verdict == VERDICT_DIVERGED);
        case RULE_SPIKE: return judge_spike(c, e, rs);
        case RULE_ACCURACY:
            snprintf(out.measured, sizeof out.measured, "%.1f (se %.1f)", m[0].value,
                     sqrt(m[0].var));
            if (fabs(m[0].value - strtod(c->published, NULL)) <= c->tolerance)
                out.verdict = VERDICT_HOLDS;
            return out;
    }
    return out;
}

// The claim over the runs of `runs` that the scale trains (cpu: a batch of 32
// holds no 128-sequence group, so no /128E) when the rule compares a set of runs
// and at least its minimum remain; the others are listed in absent.
static Claim present_runs(const Claim *c, const Experiment *e, char *absent, size_t len) {
    Claim out = *c;
    int set_rule = c->rule == RULE_BETTER || c->rule == RULE_IMPROVING || c->rule == RULE_MATCHES ||
                   c->rule == RULE_SPEEDUP;
    if (!set_rule) return out;
    out.n_runs = 0;
    for (int i = 0; i < c->n_runs; i++) {
        if (experiment_find_run(e, c->runs[i]) >= 0)
            memcpy(out.runs[out.n_runs++], c->runs[i], RES_NAME_LEN);
        else appendf(absent, len, "%s%s", absent[0] ? ", " : "", c->runs[i]);
    }
    int minimum = c->rule == RULE_IMPROVING ? 2 : 1;
    return out.n_runs >= minimum ? out : *c;
}

ClaimResult claim_evaluate(const Claim *claim, const Experiment *e, const ResultSet *rs) {
    ClaimResult out = {VERDICT_NA, ""};
    if (not_at_this_scale(claim, e, &out)) return out;
    char absent[256] = "";
    Claim present = present_runs(claim, e, absent, sizeof absent);
    const Claim *c = &present;
    if (present.n_runs == claim->n_runs) absent[0] = '\0';
    // Every run the claim names, runs first then reference.
    const char *names[2 * CLAIM_MAX_RUNS];
    int n = 0;
    for (int i = 0; i < c->n_runs; i++) names[n++] = c->runs[i];
    for (int i = 0; i < c->n_reference; i++) names[n++] = c->reference[i];
    for (int i = 0; i < n; i++)
        if (experiment_find_run(e, names[i]) < 0) {
            snprintf(out.measured, sizeof out.measured, "%.60s is not run at %s scale", names[i],
                     scale_name(e->scale));
            return out;
        }
    Measure m[2 * CLAIM_MAX_RUNS];
    for (int i = 0; i < n; i++) m[i] = measure(rs, names[i], c->metric);
    // Diverged outranks not run: it is a result, not a missing one.
    static const Verdict blocking[] = {VERDICT_DIVERGED, VERDICT_NOT_RUN};
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < n; i++)
            if (m[i].verdict == blocking[b] && !(b == 0 && divergence_expected(c, i))) {
                out.verdict = blocking[b];
                snprintf(out.measured, sizeof out.measured, "%s", m[i].why);
                return out;
            }
    out = judge(c, e, rs, m, n);
    if (absent[0])
        appendf(out.measured, sizeof out.measured, " (without %s: not run at %s scale)", absent,
                scale_name(e->scale));
    int judged = out.verdict == VERDICT_HOLDS || out.verdict == VERDICT_FAILS ||
                 out.verdict == VERDICT_INCONCLUSIVE;
    if (judged && scale_info(e->scale)->smoke) out.verdict = VERDICT_SMOKE;
    return out;
}
