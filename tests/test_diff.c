// `suite diff` logic: every claim rule judged on hand-made results (holds,
// fails, not run, diverged, n/a), the results files round-trip through CSV, and
// experiments/published.csv is consistent with the experiment definitions.
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite/lab/experiment.h"
#include "suite/lab/results.h"
#include "suite/lab/results_claims.h"
#include "tests/testutil.h"

static const char *const DEMO_RUNS[] = {"Dense",     "MoT-8",    "MoT-32", "Uniform",  "Pending",
                                        "Blown",     "Slow",     "Fast",   "EC mixed", "EC bf16",
                                        "MoT mixed", "MoT bf16", "Switch", "NoRecover"};
enum { N_DEMO_RUNS = sizeof(DEMO_RUNS) / sizeof(DEMO_RUNS[0]) };

static Experiment demo_experiment(void) {
    Experiment e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "demo");
    e.scale = SCALE_TINY;
    e.runs = calloc(N_DEMO_RUNS, sizeof(RunSpec));
    for (int i = 0; i < N_DEMO_RUNS; i++)
        snprintf(e.runs[i].name, EXP_NAME_LEN, "%s", DEMO_RUNS[i]);
    e.n_runs = N_DEMO_RUNS;
    return e;
}

static void add_run(ResultSet *rs, const char *name, const char *status, double eval_loss,
                    double train_loss, long steps) {
    rs->runs = realloc(rs->runs, (rs->n_runs + 1) * sizeof(RunSummary));
    RunSummary *r = &rs->runs[rs->n_runs++];
    memset(r, 0, sizeof *r);
    snprintf(r->run, sizeof r->run, "%s", name);
    r->status = run_status_parse(status);
    r->final_eval_loss = eval_loss;
    r->final_train_loss = train_loss;
    r->steps = steps;
    r->diverged_at = strcmp(status, "diverged") ? -1 : steps;
}

static void add_eval(ResultSet *rs, const char *run, long step, double loss, const char *mode) {
    rs->evals = realloc(rs->evals, (rs->n_evals + 1) * sizeof(CurvePoint));
    CurvePoint *p = &rs->evals[rs->n_evals++];
    memset(p, 0, sizeof *p);
    snprintf(p->run, sizeof p->run, "%s", run);
    snprintf(p->mode, sizeof p->mode, "%s", mode);
    p->step = step;
    p->tokens = step * 1024;
    p->loss = loss;
}

static void add_score(ResultSet *rs, const char *run, const char *task, double acc,
                      const char *status) {
    rs->scores = realloc(rs->scores, (rs->n_scores + 1) * sizeof(TaskScore));
    TaskScore *s = &rs->scores[rs->n_scores++];
    memset(s, 0, sizeof *s);
    snprintf(s->run, sizeof s->run, "%s", run);
    snprintf(s->task, sizeof s->task, "%s", task);
    snprintf(s->status, sizeof s->status, "%s", status);
    s->examples = 100;
    s->acc = acc;
    s->acc_norm = acc + 1;
}

// Dense ends at 5.0 after 1000 steps; Fast reaches 5.0 at step 300 (3.3x),
// Slow at step 700 (1.4x).
static void add_curve(ResultSet *rs, const char *run, const double *loss, const char *mode) {
    for (int i = 0; i < 10; i++) add_eval(rs, run, (i + 1) * 100, loss[i], mode);
}

static ResultSet demo_results(void) {
    ResultSet rs;
    memset(&rs, 0, sizeof rs);
    add_run(&rs, "Dense", "finished", 5.0, 5.1, 1000);
    add_run(&rs, "MoT-8", "finished", 4.9, 5.0, 1000);
    add_run(&rs, "MoT-32", "finished", 4.8, 4.9, 1000);
    add_run(&rs, "Uniform", "finished", 4.85, 4.95, 1000);
    add_run(&rs, "Blown", "diverged", NAN, NAN, 420);
    add_run(&rs, "Slow", "finished", 4.95, 5.0, 1000);
    add_run(&rs, "Fast", "finished", 4.6, 4.7, 1000);
    add_run(&rs, "EC mixed", "finished", 5.0, 5.0, 1000);
    add_run(&rs, "EC bf16", "finished", 5.5, 5.5, 1000);
    add_run(&rs, "MoT mixed", "finished", 4.9, 4.9, 1000);
    add_run(&rs, "MoT bf16", "finished", 4.95, 4.95, 1000);
    add_run(&rs, "Switch", "finished", 4.9, 5.0, 110);
    add_run(&rs, "NoRecover", "finished", 5.1, 5.2, 110);
    static const double dense[] = {6.0, 5.8, 5.6, 5.5, 5.4, 5.3, 5.2, 5.1, 5.05, 5.0};
    static const double fast[] = {5.6, 5.2, 5.0, 4.9, 4.8, 4.75, 4.7, 4.65, 4.62, 4.6};
    static const double slow[] = {5.9, 5.7, 5.5, 5.4, 5.3, 5.1, 5.0, 4.99, 4.97, 4.95};
    add_curve(&rs, "Dense", dense, "dense");
    add_curve(&rs, "Fast", fast, "mot");
    add_curve(&rs, "Slow", slow, "mot");
    // Transitions at step 90: MoT evals, then TC at 90 (the spike), 100, 110.
    static const double mot[] = {6.0, 5.8, 5.6, 5.5, 5.4, 5.3, 5.2, 5.1, 5.0};
    for (int i = 0; i < 9; i++) {
        add_eval(&rs, "Switch", (i + 1) * 10, mot[i], "mot");
        add_eval(&rs, "NoRecover", (i + 1) * 10, mot[i], "mot");
    }
    add_eval(&rs, "Switch", 90, 5.6, "tc");
    add_eval(&rs, "Switch", 100, 5.2, "tc");
    add_eval(&rs, "Switch", 110, 4.95, "tc");
    add_eval(&rs, "NoRecover", 90, 5.6, "tc");
    add_eval(&rs, "NoRecover", 100, 5.3, "tc");
    add_eval(&rs, "NoRecover", 110, 5.1, "tc");
    add_score(&rs, "Dense", "piqa", 60.0, "ok");
    add_score(&rs, "MoT-32", "piqa", 50.0, "ok");
    add_score(&rs, "Dense", "hellaswag", NAN, "not run");
    return rs;
}

static const struct {
    const char *id;
    Verdict verdict;
    const char *measured;  // a substring of the measured text
} EXPECTED[] = {
    {"better-holds", VERDICT_HOLDS, "4.9000, 4.8000 vs 5.0000"},
    {"better-fails", VERDICT_FAILS, "4.8500 vs 4.8000"},
    {"better-within-tolerance", VERDICT_HOLDS, ""},
    {"improving-holds", VERDICT_HOLDS, "4.9000 > 4.8000"},
    {"improving-fails", VERDICT_FAILS, ""},
    {"not-run", VERDICT_NOT_RUN, "Pending not run"},
    {"diverged", VERDICT_DIVERGED, "Blown diverged at step 420"},
    {"na-scale", VERDICT_NA, "paper scale only"},
    {"na-run", VERDICT_NA, "Base only is not run at tiny scale"},
    {"speedup-holds", VERDICT_HOLDS, "3.33x (Fast reaches 5.0000 at step 300 of 1000)"},
    {"speedup-fails", VERDICT_FAILS, "1.43x"},
    {"degrades-holds", VERDICT_HOLDS, "+0.5000 vs +0.0500"},
    {"degrades-fails", VERDICT_FAILS, ""},
    {"degrades-ec-diverged", VERDICT_HOLDS, "Blown diverged"},
    {"degrades-mot-diverged", VERDICT_DIVERGED, "Blown diverged"},
    {"spike-holds", VERDICT_HOLDS, "+0.6000 at step 90"},
    {"recovers-holds", VERDICT_HOLDS, "at step 110, 2 evals after"},
    {"recovers-fails", VERDICT_FAILS, "not within 2 evals"},
    {"accuracy-holds", VERDICT_HOLDS, "60.0"},
    {"accuracy-fails", VERDICT_FAILS, "50.0"},
    {"accuracy-not-run", VERDICT_NOT_RUN, "hellaswag not scored"},
    {"order-holds", VERDICT_HOLDS, "50.0 < 60.0"},
};
enum { N_EXPECTED = sizeof(EXPECTED) / sizeof(EXPECTED[0]) };

START_TEST(test_every_rule_gives_the_right_verdict) {
    Claim *claims;
    int n;
    char err[1024];
    ck_assert_msg(!claims_load("tests/data/experiments/claims.csv", &claims, &n, err, sizeof err),
                  "%s", err);
    ck_assert_int_eq(n, N_EXPECTED);
    Experiment e = demo_experiment();
    ResultSet rs = demo_results();
    for (int i = 0; i < N_EXPECTED; i++) {
        ck_assert_str_eq(claims[i].id, EXPECTED[i].id);
        ClaimResult r = claim_evaluate(&claims[i], &e, &rs);
        ck_assert_msg(r.verdict == EXPECTED[i].verdict, "%s: %s (%s), expected %s", claims[i].id,
                      verdict_name(r.verdict), r.measured, verdict_name(EXPECTED[i].verdict));
        ck_assert_msg(strstr(r.measured, EXPECTED[i].measured), "%s: measured '%s' lacks '%s'",
                      claims[i].id, r.measured, EXPECTED[i].measured);
    }
    free(claims);
    free(e.runs);
    results_free(&rs);
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

// Names with commas and quotes survive libcsv quoting; NaN stays missing.
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
    ck_assert(isnan(back.runs[4].final_eval_loss));
    ck_assert_int_eq(back.runs[4].diverged_at, 420);
    ck_assert_double_eq_tol(back.evals[25].loss, rs.evals[25].loss, 1e-9);
    ck_assert_str_eq(back.evals[25].mode, rs.evals[25].mode);
    ck_assert_str_eq(back.scores[2].status, "not run");
    results_free(&rs);
    results_free(&back);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
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
    Experiment e = demo_experiment();
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
            for (int r = 0; r < claims[i].n_runs; r++)
                ck_assert_msg(experiment_find_run(&e, claims[i].runs[r]) >= 0,
                              "%s: no run '%s' at %s", claims[i].id, claims[i].runs[r],
                              scale_name((Scale)s));
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
    tcase_add_test(tc, test_bad_claims_file_names_line);
    tcase_add_test(tc, test_results_round_trip);
    tcase_add_test(tc, test_missing_results_are_not_run);
    tcase_add_test(tc, test_published_claims_match_the_definitions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(diff_suite()); }
