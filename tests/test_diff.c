// `suite diff` logic: every claim rule judged on hand-made results with three
// seeds of known spread (holds, fails, inconclusive within the noise floor, smoke
// at tiny, not run, diverged, n/a), the results files round-trip through CSV, and
// experiments/published.csv is consistent with the experiment definitions.
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite/lab/experiment.h"
#include "suite/lab/results.h"
#include "kernels/base/fileio.h"
#include "suite/lab/results_claims.h"
#include "suite/lab/results_report.h"
#include "tests/testutil.h"

static const char *const DEMO_RUNS[] = {
    "Dense",    "MoT-8",     "MoT-32",    "Uniform", "Close",  "Single",  "Pending",
    "Blown",    "Slow",      "Fast",      "Never",   "EC mixed", "EC bf16", "MoT mixed",
    "MoT bf16", "Switch",    "Near",      "NoRecover", "Control", "Paired"};
enum { N_DEMO_RUNS = sizeof(DEMO_RUNS) / sizeof(DEMO_RUNS[0]) };

static Experiment demo_experiment(Scale scale) {
    Experiment e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "demo");
    e.scale = scale;
    e.runs = calloc(N_DEMO_RUNS, sizeof(RunSpec));
    for (int i = 0; i < N_DEMO_RUNS; i++) {
        snprintf(e.runs[i].name, EXP_NAME_LEN, "%s", DEMO_RUNS[i]);
        ck_assert(!run_set_value(&e.runs[i], "model", "mot-tiny/8e", NULL, 0));
        e.runs[i].n_seeds = 3;
    }
    e.n_runs = N_DEMO_RUNS;
    return e;
}

static void add_row(ResultSet *rs, const char *name, long seed, const char *status,
                    double eval_loss, double train_loss, long steps, double elapsed) {
    rs->runs = realloc(rs->runs, (rs->n_runs + 1) * sizeof(RunSummary));
    RunSummary *r = &rs->runs[rs->n_runs++];
    memset(r, 0, sizeof *r);
    snprintf(r->run, sizeof r->run, "%s", name);
    r->seed = seed;
    r->status = run_status_parse(status);
    r->final_eval_loss = eval_loss;
    r->final_train_loss = train_loss;
    r->steps = steps;
    r->elapsed_s = elapsed;
    r->c4_sample_eval_loss = NAN;  // trained on C4: nothing beside
    r->diverged_at = strcmp(status, "diverged") ? -1 : steps;
}

// Seeds 1, 2, 3 end at v - 0.01, v, v + 0.01: mean v, seed-to-seed std exactly
// 0.01, so two such runs differ with sigma = sqrt(2 * 0.01^2 / 3) = 0.0082
// and the noise floor 2 sigma is 0.0163.
// Seed s shifts every run by SEED_OFFSET (the data order all runs of a seed
// share); a few runs add (+) or subtract (-) their own JITTER (zero mean,
// orthogonal to the offset). Seed by seed, a run without jitter and one with it
// differ by sigma 0.0100; two runs without jitter differ by exactly their bases
// (sigma 0), though their means are 0.0082 apart unpaired.
static const double SEED_OFFSET[3] = {-0.01, 0, 0.01};
static const double JITTER[3] = {0.01, -0.02, 0.01};

static double jitter_sign(const char *name) {
    static const char *const plus[] = {"MoT-8", "Uniform", "Close"};
    for (size_t i = 0; i < sizeof plus / sizeof plus[0]; i++)
        if (!strcmp(name, plus[i])) return 1;
    return strcmp(name, "Control") ? 0 : -1;
}
static void add_run(ResultSet *rs, const char *name, double eval_loss, double train_loss,
                    long steps) {
    double elapsed = strcmp(name, "Fast") ? 100 : 200;  // Fast: twice dense's time per step
    for (int k = 0; k < 3; k++)
        add_row(rs, name, k + 1, "finished", eval_loss + SEED_OFFSET[k] + jitter_sign(name) * JITTER[k],
                train_loss + SEED_OFFSET[k] + jitter_sign(name) * JITTER[k], steps, elapsed);
}

static void add_eval(ResultSet *rs, const char *run, long seed, long step, double loss,
                     const char *mode) {
    rs->evals = realloc(rs->evals, (rs->n_evals + 1) * sizeof(CurvePoint));
    CurvePoint *p = &rs->evals[rs->n_evals++];
    memset(p, 0, sizeof *p);
    snprintf(p->run, sizeof p->run, "%s", run);
    snprintf(p->mode, sizeof p->mode, "%s", mode);
    p->seed = seed;
    p->step = step;
    p->tokens = step * 1024;
    p->loss = loss;
}

// One seed's score with its binomial standard error, as `suite downstream` writes it.
static void add_score(ResultSet *rs, const char *run, const char *task, double acc,
                      const char *status) {
    rs->scores = realloc(rs->scores, (rs->n_scores + 1) * sizeof(TaskScore));
    TaskScore *s = &rs->scores[rs->n_scores++];
    memset(s, 0, sizeof *s);
    snprintf(s->run, sizeof s->run, "%s", run);
    snprintf(s->task, sizeof s->task, "%s", task);
    snprintf(s->status, sizeof s->status, "%s", status);
    s->seed = 1;
    s->examples = 100;
    s->acc = acc;
    s->acc_norm = acc + 1;
    s->acc_se = 100 * sqrt(acc / 100 * (1 - acc / 100) / 100);
    s->acc_norm_se = NAN;
}

// 10 evals, steps 100..1000; offset: each seed's curve shifted by SEED_OFFSET.
static void add_curve(ResultSet *rs, const char *run, const double *loss, const char *mode,
                      int offset) {
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 10; i++)
            add_eval(rs, run, k + 1, (i + 1) * 100, loss[i] + offset * SEED_OFFSET[k], mode);
}

// A transition at step 90: MoT evals 10..90, TC at 90 with jumps 0.58, 0.60,
// 0.62 (mean 0.6, sigma 0.02 / sqrt(3) = 0.0115), then TC at 100 and 110.
static void add_transition(ResultSet *rs, const char *run) {
    static const double mot[] = {6.0, 5.8, 5.6, 5.5, 5.4, 5.3, 5.2, 5.1, 5.0};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 9; i++) add_eval(rs, run, k + 1, (i + 1) * 10, mot[i], "mot");
        add_eval(rs, run, k + 1, 90, 5.6 + 2 * SEED_OFFSET[k], "tc");
        add_eval(rs, run, k + 1, 100, 5.2, "tc");
        add_eval(rs, run, k + 1, 110, 4.95, "tc");
    }
}

static ResultSet demo_results(void) {
    ResultSet rs;
    memset(&rs, 0, sizeof rs);
    add_run(&rs, "Dense", 5.0, 5.1, 1000);
    add_run(&rs, "MoT-8", 4.9, 5.0, 1000);
    add_run(&rs, "MoT-32", 4.8, 4.9, 1000);
    add_run(&rs, "Uniform", 4.85, 4.95, 1000);
    add_run(&rs, "Close", 4.81, 4.91, 1000);
    add_row(&rs, "Single", 1, "finished", 4.5, 4.6, 1000, 100);
    add_row(&rs, "Blown", 1, "diverged", NAN, NAN, 420, 40);
    add_run(&rs, "Slow", 4.95, 5.0, 1000);
    add_run(&rs, "Fast", 4.6, 4.7, 1000);
    add_run(&rs, "Never", 5.2, 5.3, 1000);
    add_run(&rs, "EC mixed", 5.0, 5.0, 1000);
    add_run(&rs, "EC bf16", 5.5, 5.5, 1000);
    add_run(&rs, "MoT mixed", 4.9, 4.9, 1000);
    add_run(&rs, "MoT bf16", 4.95, 4.95, 1000);
    add_run(&rs, "Switch", 4.90, 5.0, 110);
    add_run(&rs, "Near", 4.92, 5.0, 110);
    add_run(&rs, "NoRecover", 5.1, 5.2, 110);
    add_run(&rs, "Control", 4.91, 5.0, 110);
    add_run(&rs, "Paired", 4.99, 5.09, 1000);  // dense's seeds, each 0.01 lower
    // Dense ends at 5.0 (+ seed offset) after 1000 steps. Fast reaches 5.0 at step
    // 300 (3.33x; its seeds against dense's: 310, 300, 295); Slow at 700 (1.43x).
    static const double dense[] = {6.0, 5.8, 5.6, 5.5, 5.4, 5.3, 5.2, 5.1, 5.05, 5.0};
    static const double fast[] = {5.6, 5.2, 5.0, 4.9, 4.8, 4.75, 4.7, 4.65, 4.62, 4.6};
    static const double slow[] = {5.9, 5.7, 5.5, 5.4, 5.3, 5.1, 5.0, 4.99, 4.97, 4.95};
    static const double never[] = {6.0, 5.9, 5.8, 5.7, 5.6, 5.5, 5.4, 5.3, 5.25, 5.2};
    add_curve(&rs, "Dense", dense, "dense", 1);
    add_curve(&rs, "Fast", fast, "mot", 0);
    add_curve(&rs, "Slow", slow, "mot", 0);
    add_curve(&rs, "Never", never, "mot", 0);
    add_transition(&rs, "Switch");
    add_score(&rs, "Dense", "piqa", 60.0, "ok");   // se 4.9
    add_score(&rs, "MoT-32", "piqa", 50.0, "ok");  // se 5.0
    add_score(&rs, "MoT-8", "piqa", 55.0, "ok");   // se 5.0
    add_score(&rs, "Dense", "hellaswag", NAN, "not run");
    return rs;
}

static const struct {
    const char *id;
    Scale scale;
    Verdict verdict;
    const char *measured;  // a substring of the measured text
} EXPECTED[] = {
    {"better-holds", SCALE_SMALL, VERDICT_HOLDS,
     "4.9000 vs 5.0000 diff -0.1000 sigma 0.0100 (paired, 3 seeds)"},
    {"better-holds", SCALE_TINY, VERDICT_SMOKE, "4.8000 vs 5.0000 diff -0.2000 sigma 0.0000"},
    {"better-fails", SCALE_SMALL, VERDICT_FAILS, "4.8500 vs 4.8000 diff +0.0500 sigma 0.0100"},
    {"within-2-sigma-above", SCALE_SMALL, VERDICT_INCONCLUSIVE, "diff +0.0100 sigma 0.0100"},
    {"within-2-sigma-below", SCALE_SMALL, VERDICT_INCONCLUSIVE, "diff -0.0100 sigma 0.0100"},
    // 0.01 with all the seed noise shared: unpaired it would be inside 2 x 0.0082.
    {"paired-holds", SCALE_SMALL, VERDICT_HOLDS,
     "4.9900 vs 5.0000 diff -0.0100 sigma 0.0000 (paired, 3 seeds)"},
    {"within-tolerance", SCALE_SMALL, VERDICT_INCONCLUSIVE, "diff +0.0500"},
    {"one-seed", SCALE_SMALL, VERDICT_INCONCLUSIVE,
     "diff -0.5000 sigma ? (1 seed: no noise estimate)"},
    {"one-seed-paper", SCALE_PAPER, VERDICT_HOLDS, "4.5000 vs 5.0000 diff -0.5000 sigma ?"},
    {"improving-holds", SCALE_SMALL, VERDICT_HOLDS, "4.8000 vs 4.9000 diff -0.1000"},
    {"improving-fails", SCALE_SMALL, VERDICT_FAILS, "4.9000 vs 4.8000 diff +0.1000"},
    {"not-run", SCALE_SMALL, VERDICT_NOT_RUN, "Pending not run"},
    {"diverged", SCALE_SMALL, VERDICT_DIVERGED, "Blown diverged at step 420"},
    {"reference-diverged", SCALE_SMALL, VERDICT_HOLDS, "Blown diverged at step 420"},
    {"na-scale", SCALE_SMALL, VERDICT_NA, "paper scale only"},
    {"na-run", SCALE_SMALL, VERDICT_NA, "Base only is not run at small scale"},
    {"partial-runs", SCALE_SMALL, VERDICT_HOLDS,
     "diff -0.2000 sigma 0.0000 (paired, 3 seeds) (without Base only: not run at small scale)"},
    {"speedup-holds", SCALE_SMALL, VERDICT_HOLDS,
     "step speedup 3.33x sigma 0.05 (Fast reaches 5.0000 at step 300 of 1000); wall-clock 1.67x"},
    {"speedup-fails", SCALE_SMALL, VERDICT_FAILS, "no MoT run reached 5.0000"},
    {"speedup-paper-fails", SCALE_PAPER, VERDICT_FAILS, "step speedup 1.43x"},
    {"degrades-holds", SCALE_SMALL, VERDICT_HOLDS,
     "bf16 rise +0.5000 vs +0.0500: diff +0.4500 sigma 0.0115"},
    {"degrades-fails", SCALE_SMALL, VERDICT_FAILS, "diff -0.4500"},
    {"degrades-ec-diverged", SCALE_SMALL, VERDICT_HOLDS, "Blown diverged"},
    {"degrades-mot-diverged", SCALE_SMALL, VERDICT_DIVERGED, "Blown diverged"},
    {"spike-holds", SCALE_SMALL, VERDICT_HOLDS, "jump at step 90: diff +0.6000 sigma 0.0115"},
    {"recovers-below", SCALE_SMALL, VERDICT_HOLDS, "4.9000 vs 4.9100 diff -0.0100"},
    {"recovers-within-noise", SCALE_SMALL, VERDICT_HOLDS, "4.9200 vs 4.9100 diff +0.0100"},
    {"recovers-fails", SCALE_SMALL, VERDICT_FAILS, "5.1000 vs 4.9100 diff +0.1900"},
    {"matches-within-noise", SCALE_SMALL, VERDICT_HOLDS, "diff +0.0100 sigma 0.0100"},
    {"accuracy-holds", SCALE_SMALL, VERDICT_HOLDS, "60.0 (se 4.9)"},
    {"accuracy-fails", SCALE_SMALL, VERDICT_FAILS, "50.0"},
    {"accuracy-not-run", SCALE_SMALL, VERDICT_NOT_RUN, "hellaswag not scored"},
    {"order-holds", SCALE_SMALL, VERDICT_HOLDS, "60.0 vs 50.0 diff +10.0 sigma 7.0"},
    {"order-within-se", SCALE_SMALL, VERDICT_INCONCLUSIVE, "60.0 vs 55.0 diff +5.0 sigma 7.0"},
};
enum { N_EXPECTED = sizeof(EXPECTED) / sizeof(EXPECTED[0]) };

START_TEST(test_every_rule_gives_the_right_verdict) {
    Claim *claims;
    int n;
    char err[1024];
    ck_assert_msg(!claims_load("tests/data/experiments/claims.csv", &claims, &n, err, sizeof err),
                  "%s", err);
    ResultSet rs = demo_results();
    for (int i = 0; i < N_EXPECTED; i++) {
        const Claim *c = NULL;
        for (int k = 0; k < n; k++)
            if (!strcmp(claims[k].id, EXPECTED[i].id)) c = &claims[k];
        ck_assert_msg(c, "no claim %s in claims.csv", EXPECTED[i].id);
        Experiment e = demo_experiment(EXPECTED[i].scale);
        ClaimResult r = claim_evaluate(c, &e, &rs);
        ck_assert_msg(r.verdict == EXPECTED[i].verdict, "%s at %s: %s (%s), expected %s", c->id,
                      scale_name(EXPECTED[i].scale), verdict_name(r.verdict), r.measured,
                      verdict_name(EXPECTED[i].verdict));
        ck_assert_msg(strstr(r.measured, EXPECTED[i].measured), "%s: measured '%s' lacks '%s'",
                      c->id, r.measured, EXPECTED[i].measured);
        free(e.runs);
    }
    free(claims);
    results_free(&rs);
}
END_TEST

// Every claim of the test file is exercised above.
START_TEST(test_every_test_claim_is_expected) {
    Claim *claims;
    int n;
    char err[1024];
    ck_assert(!claims_load("tests/data/experiments/claims.csv", &claims, &n, err, sizeof err));
    for (int k = 0; k < n; k++) {
        int found = 0;
        for (int i = 0; i < N_EXPECTED; i++) found |= !strcmp(claims[k].id, EXPECTED[i].id);
        ck_assert_msg(found, "claim %s has no expected verdict", claims[k].id);
    }
    free(claims);
}
END_TEST

START_TEST(test_bad_claims_file_names_line) {
    Claim *claims;
    int n;
    char err[1024];
    ck_assert_int_eq(
        claims_load("tests/data/experiments/bad-claims.csv", &claims, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad-claims.csv:3: unknown rule 'beter'"), "%s", err);
}
END_TEST

static int row_of(const ResultSet *rs, const char *run) {
    for (int i = 0; i < rs->n_runs; i++)
        if (!strcmp(rs->runs[i].run, run)) return i;
    return -1;
}

// Names with commas and quotes survive libcsv quoting; NaN stays missing; the
// seeds, wall times and standard errors come back.
START_TEST(test_results_round_trip) {
    char dir[] = "/tmp/mot-results-XXXXXX", err[1024];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ResultSet rs = demo_results();
    snprintf(rs.runs[0].run, sizeof rs.runs[0].run, "Dense, \"quoted\"");
    snprintf(rs.runs[0].device, sizeof rs.runs[0].device, "AMD EPYC (2 threads)");
    ck_assert_msg(!results_save(dir, &rs, err, sizeof err), "%s", err);
    ResultSet back;
    ck_assert_msg(!results_load(dir, &back, err, sizeof err), "%s", err);
    ck_assert_int_eq(back.n_runs, rs.n_runs);
    ck_assert_int_eq(back.n_evals, rs.n_evals);
    ck_assert_int_eq(back.n_scores, rs.n_scores);
    ck_assert_str_eq(back.runs[0].run, "Dense, \"quoted\"");
    ck_assert_str_eq(back.runs[0].device, "AMD EPYC (2 threads)");
    int blown = row_of(&back, "Blown");
    ck_assert(isnan(back.runs[blown].final_eval_loss));
    ck_assert_int_eq(back.runs[blown].diverged_at, 420);
    ck_assert_int_eq(back.runs[2].seed, 3);
    ck_assert_double_eq_tol(back.runs[2].elapsed_s, 100, 1e-9);
    ck_assert_double_eq_tol(back.evals[25].loss, rs.evals[25].loss, 1e-9);
    ck_assert_int_eq(back.evals[25].seed, rs.evals[25].seed);
    ck_assert_str_eq(back.evals[25].mode, rs.evals[25].mode);
    ck_assert_double_eq_tol(back.scores[0].acc_se, rs.scores[0].acc_se, 1e-4);
    // acc_norm_se was not written: read back as the binomial one, sqrt(p(1-p)/n).
    ck_assert_double_eq_tol(back.scores[0].acc_norm_se, 100 * sqrt(0.61 * 0.39 / 100), 1e-4);
    ck_assert_str_eq(back.scores[3].status, "not run");
    results_free(&rs);
    results_free(&back);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

// A results directory with three seeds whose std is known (0.01): seeds.csv and
// the statistics read back from summary.csv agree with it.
START_TEST(test_seed_statistics) {
    char dir[] = "/tmp/mot-seeds-XXXXXX", err[1024], path[PATH_MAX], line[256] = "";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ResultSet rs = demo_results();
    ck_assert_msg(!results_save(dir, &rs, err, sizeof err), "%s", err);
    ResultSet back;
    ck_assert_msg(!results_load(dir, &back, err, sizeof err), "%s", err);
    SeedStats st = results_run_stats(&back, "MoT-32", "eval_loss");
    ck_assert_int_eq(st.n, 3);
    ck_assert_double_eq_tol(st.mean, 4.8, 1e-9);
    ck_assert_double_eq_tol(st.std, 0.01, 1e-9);
    st = results_run_stats(&back, "Single", "train_loss");
    ck_assert_int_eq(st.n, 1);
    ck_assert(isnan(st.std));
    ck_assert_int_eq(results_run_stats(&back, "Blown", "eval_loss").n, 0);
    snprintf(path, sizeof path, "%s/seeds.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof line, f) && strncmp(line, "MoT-32,", 7)) {}
    fclose(f);
    ck_assert_str_eq(line, "MoT-32,3,4.8,0.01,4.9,0.01\n");
    // The mean curve averages the seeds at each step: dense's offsets cancel.
    CurvePoint mean[16];
    ck_assert_int_eq(results_mean_curve(back.evals, back.n_evals, "Dense", "", -1, mean, 16), 10);
    ck_assert_double_eq_tol(mean[9].loss, 5.0, 1e-9);
    ck_assert_int_eq(results_mean_curve(back.evals, back.n_evals, "Dense", "", 3, mean, 16), 10);
    ck_assert_double_eq_tol(mean[9].loss, 5.01, 1e-9);
    results_free(&rs);
    results_free(&back);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

// At the smoke scale the report says so at the top, and its claims read "smoke".
START_TEST(test_tiny_report_is_smoke) {
    char path[] = "/tmp/mot-report-XXXXXX", err[512];
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    Claim *claims;
    int n;
    ck_assert(!claims_load("tests/data/experiments/claims.csv", &claims, &n, err, sizeof err));
    ExperimentReport r = {.exp = demo_experiment(SCALE_TINY), .rs = demo_results()};
    report_judge(&r, claims, n);
    ck_assert_int_ge(r.n_judged, 1);
    ck_assert_msg(!report_write_markdown(path, SCALE_TINY, &r, 1, err, sizeof err), "%s", err);
    size_t len;
    char *md = read_file(path, &len, err, sizeof err);
    ck_assert_ptr_nonnull(md);
    const char *smoke = strstr(md, "**tiny is the smoke scale**");
    ck_assert_msg(smoke && smoke < strstr(md, "## demo"), "%s", md);
    ck_assert_msg(strstr(md, "| MoTs beat dense | holds | 4.9000 vs 5.0000"), "%s", md);
    ck_assert_ptr_nonnull(strstr(md, "**smoke** |"));
    ck_assert_ptr_null(strstr(md, "**holds**"));
    ck_assert_ptr_nonnull(strstr(md, "| MoT-32 | mot-tiny/8e | finished | 3 / 3 | 4.8000 ± 0.0100 |"));
    free(md);
    report_free(&r);  // the experiment and the results
    free(claims);
    unlink(path);
}
END_TEST

// A missing results folder is "not run" for every claim, never an error.
START_TEST(test_missing_results_are_not_run) {
    ResultSet rs;
    char err[256];
    ck_assert_int_eq(results_load("/nonexistent/fig-params-tiny", &rs, err, sizeof err), 0);
    ck_assert_int_eq(rs.n_runs, 0);
    Claim *claims;
    int n;
    ck_assert(!claims_load("tests/data/experiments/claims.csv", &claims, &n, err, sizeof err));
    Experiment e = demo_experiment(SCALE_SMALL);
    ck_assert_int_eq(claim_evaluate(&claims[0], &e, &rs).verdict, VERDICT_NOT_RUN);
    free(claims);
    free(e.runs);
}
END_TEST

// Every published claim names an experiment and runs that its definition has at
// each scale the claim is checked at, and the paper's numbers are all there.
START_TEST(test_published_claims_match_the_definitions) {
    Claim *claims;
    int n;
    char err[1024];
    ck_assert_msg(!claims_load("experiments/published.csv", &claims, &n, err, sizeof err), "%s",
                  err);
    int accuracies = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        for (int s = 0; s < N_SCALES; s++) {
            if (!(claims[i].scales & (1u << s))) continue;
            Experiment e;
            ck_assert_msg(
                !experiment_load_by_name(".", claims[i].experiment, (Scale)s, &e, err, sizeof err),
                "%s: %s", claims[i].id, err);
            // At paper scale every run is there; below it a set rule may lose a run the
            // batch cannot hold (cpu: no /128E) and is judged on the rest -- never n/a.
            for (int r = 0; r < claims[i].n_runs && s == SCALE_PAPER; r++)
                ck_assert_msg(experiment_find_run(&e, claims[i].runs[r]) >= 0,
                              "%s: no run '%s' at %s", claims[i].id, claims[i].runs[r],
                              scale_name((Scale)s));
            ResultSet none = {0};
            ClaimResult judged = claim_evaluate(&claims[i], &e, &none);
            ck_assert_msg(judged.verdict == VERDICT_NOT_RUN, "%s at %s: %s (%s)", claims[i].id,
                          scale_name((Scale)s), verdict_name(judged.verdict), judged.measured);
            for (int r = 0; r < claims[i].n_reference; r++)
                ck_assert_msg(experiment_find_run(&e, claims[i].reference[r]) >= 0,
                              "%s: no run '%s'", claims[i].id, claims[i].reference[r]);
            experiment_free(&e);
        }
        if (claims[i].rule == RULE_ACCURACY) {
            accuracies++;
            sum += strtod(claims[i].published, NULL);
        }
    }
    // PIQA 60.2/62.4/65.8, HellaSwag 27.3/31.1/33.3, ARC-e 35.5/37.3/39.6
    ck_assert_int_eq(accuracies, 9);
    ck_assert_double_eq_tol(sum, 188.4 + 91.7 + 112.4, 1e-9);
    free(claims);
}
END_TEST

static Suite *diff_suite(void) {
    Suite *s = suite_create("diff");
    TCase *tc = tcase_create("claims");
    tcase_add_test(tc, test_every_rule_gives_the_right_verdict);
    tcase_add_test(tc, test_every_test_claim_is_expected);
    tcase_add_test(tc, test_seed_statistics);
    tcase_add_test(tc, test_tiny_report_is_smoke);
    tcase_add_test(tc, test_bad_claims_file_names_line);
    tcase_add_test(tc, test_results_round_trip);
    tcase_add_test(tc, test_missing_results_are_not_run);
    tcase_add_test(tc, test_published_claims_match_the_definitions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(diff_suite()); }
