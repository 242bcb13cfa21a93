// Results across seed replicates: each run name has one summary row per seed.
#include <math.h>
#include <string.h>

#include "suite/lab/experiment.h"
#include "suite/lab/results.h"

// metric of one row: NAN when the replicate did not finish or has no value.
static double row_value(const RunSummary *r, const char *metric) {
    if (r->status != RUN_STATUS_FINISHED) return NAN;
    return !strcmp(metric, "eval_loss")    ? r->final_eval_loss
           : !strcmp(metric, "train_loss") ? r->final_train_loss
           : !strcmp(metric, "c4_sample_eval_loss") ? r->c4_sample_eval_loss
                                                    : r->elapsed_s;
}

SeedStats results_run_stats(const ResultSet *rs, const char *run, const char *metric) {
    SeedStats st = {0, NAN, NAN};
    double sum = 0, sq = 0;
    for (int i = 0; i < rs->n_runs; i++) {
        double v = strcmp(rs->runs[i].run, run) ? NAN : row_value(&rs->runs[i], metric);
        if (!isnan(v)) sum += v, st.n++;
    }
    if (st.n == 0) return st;
    st.mean = sum / st.n;
    for (int i = 0; i < rs->n_runs; i++) {  // squares around the mean: no cancellation
        double v = strcmp(rs->runs[i].run, run) ? NAN : row_value(&rs->runs[i], metric);
        if (!isnan(v)) sq += (v - st.mean) * (v - st.mean);
    }
    if (st.n >= 2) st.std = sqrt(sq / (st.n - 1));
    return st;
}

// The finished value of run's replicate with this seed: 1 and *v, 0 when there is none.
static int seed_value(const ResultSet *rs, const char *run, long seed, const char *metric,
                      double *v) {
    for (int i = 0; i < rs->n_runs; i++)
        if (!strcmp(rs->runs[i].run, run) && rs->runs[i].seed == seed) {
            *v = row_value(&rs->runs[i], metric);
            return !isnan(*v);
        }
    return 0;
}

SeedStats results_paired_stats(const ResultSet *rs, const char *a, const char *b,
                               const char *metric) {
    SeedStats st = {0, NAN, NAN};
    double d[EXP_MAX_SEEDS], sum = 0, sq = 0;
    int n_a = 0;
    for (int i = 0; i < rs->n_runs; i++) {
        double va = strcmp(rs->runs[i].run, a) ? NAN : row_value(&rs->runs[i], metric), vb;
        if (isnan(va)) continue;
        n_a++;
        if (!seed_value(rs, b, rs->runs[i].seed, metric, &vb) || st.n == EXP_MAX_SEEDS) continue;
        d[st.n] = va - vb;
        sum += d[st.n++];
    }
    if (st.n == 0 || st.n != n_a || st.n != results_run_stats(rs, b, metric).n) {
        st.n = 0;  // unmatched seeds: no pairing
        return st;
    }
    st.mean = sum / st.n;
    for (int i = 0; i < st.n; i++) sq += (d[i] - st.mean) * (d[i] - st.mean);
    if (st.n >= 2) st.std = sqrt(sq / (st.n - 1));
    return st;
}

RunStatus results_run_status(const ResultSet *rs, const char *run, const RunSummary **row) {
    static const RunStatus rank[] = {RUN_STATUS_DIVERGED, RUN_STATUS_FINISHED};
    *row = results_find_run(rs, run);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < rs->n_runs; i++)
            if (!strcmp(rs->runs[i].run, run) && rs->runs[i].status == rank[k]) {
                *row = &rs->runs[i];
                return rank[k];
            }
    return *row ? (*row)->status : RUN_STATUS_NONE;
}

int results_mean_curve(const CurvePoint *pts, int n_pts, const char *run, const char *mode,
                       long seed, CurvePoint *out, int max) {
    long first_seed = seed;
    int n = 0;
    for (int i = 0; i < n_pts && n < max; i++) {
        const CurvePoint *p = &pts[i];
        if (strcmp(p->run, run) || (mode[0] && strcmp(p->mode, mode))) continue;
        if (first_seed < 0) first_seed = p->seed;
        if (p->seed != first_seed) continue;
        // The same (step, mode) of every other seed wanted.
        double total = 0;
        int count = 0;
        for (int j = 0; j < n_pts; j++) {
            const CurvePoint *q = &pts[j];
            if (!strcmp(q->run, run) && q->step == p->step && !strcmp(q->mode, p->mode) &&
                (seed < 0 || q->seed == seed) && !isnan(q->loss)) {
                total += q->loss;
                count++;
            }
        }
        out[n] = *p;
        out[n++].loss = count ? total / count : NAN;
    }
    return n;
}

int results_run_seeds(const ResultSet *rs, const char *run, long *seeds, int max) {
    int n = 0;
    for (int i = 0; i < rs->n_runs && n < max; i++)
        if (!strcmp(rs->runs[i].run, run)) seeds[n++] = rs->runs[i].seed;
    return n;
}
