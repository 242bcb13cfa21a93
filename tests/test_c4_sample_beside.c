// The loss on the bundled C4 validation sample beside a run's own validation loss
// (issue #11): summary.csv's optional c4_sample_eval_loss column, the runner's
// keyed `suite eval --out` step after a run trained on the English stand-in
// (against a fake `suite`, then for real on a tiny run), and the report's column.
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suite/lab/experiment.h"
#include "suite/lab/experiment_run.h"
#include "suite/lab/results.h"
#include "suite/lab/results_report.h"
#include "suite/paths.h"
#include "suite/rundir.h"
#include "tests/testutil.h"

static void write_text(const char *dir, const char *name, const char *text) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

// The whole of dir/name (static buffer; "" when missing).
static const char *slurp(const char *dir, const char *name) {
    static char buf[1 << 16];
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

static int count_lines(const char *text) {
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

// Lines of text that start with word and a space.
static int count_starting(const char *text, const char *word) {
    int n = 0;
    size_t len = strlen(word);
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "")
        n += !strncmp(line, word, len) && line[len] == ' ';
    return n;
}

static char *make_tmp(void) {
    static char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/mot-beside-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    return tmp;
}

static void remove_tree(const char *dir) {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

// summary.csv from before the column loads (NAN); a value survives a save and a
// load; the seed statistics take the column like the other losses.
START_TEST(test_summary_column_is_optional_and_round_trips) {
    char *tmp = make_tmp(), err[512];
    write_text(tmp, "summary.csv",
               "run,seed,model,dataset,scale,device,precision,commit,status,final_eval_loss,"
               "final_train_loss,steps,diverged_at,elapsed_s\n"
               "Dense,1,transformer-tiny,c4-sample,tiny,cpu,fp32,abc,finished,5.5,5.6,10,,1.5\n");
    ResultSet rs;
    ck_assert_msg(!results_load(tmp, &rs, err, sizeof err), "%s", err);
    ck_assert_int_eq(rs.n_runs, 1);
    ck_assert_double_eq_tol(rs.runs[0].final_eval_loss, 5.5, 1e-12);
    ck_assert_double_eq_tol(rs.runs[0].elapsed_s, 1.5, 1e-12);
    ck_assert(isnan(rs.runs[0].c4_sample_eval_loss));
    ck_assert_int_eq(results_run_stats(&rs, "Dense", "c4_sample_eval_loss").n, 0);

    // A second seed with values 6.0 and 6.5 on the C4 sample: mean 6.25, std sqrt(0.125).
    rs.runs[0].c4_sample_eval_loss = 6.0;
    RunSummary second = rs.runs[0];
    second.seed = 2;
    second.c4_sample_eval_loss = 6.5;
    rs.runs = realloc(rs.runs, 2 * sizeof *rs.runs);
    rs.runs[rs.n_runs++] = second;
    ck_assert_msg(!results_save(tmp, &rs, err, sizeof err), "%s", err);
    results_free(&rs);
    ck_assert_ptr_nonnull(strstr(slurp(tmp, "summary.csv"), ",elapsed_s,c4_sample_eval_loss\n"));
    ck_assert_ptr_nonnull(strstr(slurp(tmp, "summary.csv"), ",1.5,6.5\n"));
    ck_assert_msg(!results_load(tmp, &rs, err, sizeof err), "%s", err);
    ck_assert_int_eq(rs.n_runs, 2);
    ck_assert_double_eq_tol(rs.runs[0].c4_sample_eval_loss, 6.0, 1e-12);
    ck_assert_double_eq_tol(rs.runs[1].c4_sample_eval_loss, 6.5, 1e-12);
    SeedStats st = results_run_stats(&rs, "Dense", "c4_sample_eval_loss");
    ck_assert_int_eq(st.n, 2);
    ck_assert_double_eq_tol(st.mean, 6.25, 1e-12);
    ck_assert_double_eq_tol(st.std, sqrt(0.125), 1e-12);
    results_free(&rs);
    remove_tree(tmp);
}
END_TEST

// A fake `suite`: logs its arguments; `train` leaves a finished run in --out,
// `eval` writes its --out CSV (or fails when FAKE_EVAL_FAIL is set).
static const char *FAKE_SUITE =
    "#!/bin/sh\n"
    "echo \"$*\" >> \"$FAKE_SUITE_LOG\"\n"
    "prev=''; out=''\n"
    "for a in \"$@\"; do [ \"$prev\" = --out ] && out=\"$a\"; prev=\"$a\"; done\n"
    "if [ \"$1\" = eval ]; then\n"
    "  [ -n \"$FAKE_EVAL_FAIL\" ] && { echo 'suite eval: no such checkpoint' >&2; exit 1; }\n"
    "  printf '" EVAL_OUT_HEADER "\\nc4-sample,7,6.25\\n' > \"$out\"; exit 0\n"
    "fi\n"
    "printf '{\"status\": \"finished\", \"step\": 10, \"final_eval_loss\": 5.5}' > "
    "\"$out/status.json\"\n"
    "printf 'step,tokens,eval_loss,mode\\n10,10240,5.5,dense\\n' > \"$out/eval.csv\"\n";

static const char *STANDIN_DEMO =
    "name: beside-demo\ntitle: beside test\nplot: eval-loss\nscales:\n"
    "  tiny: {steps: 10, batch: 4, seq_len: 16, eval_batches: 7, data: english-standin, "
    "seeds: 1}\n"
    "runs:\n  - name: Dense\n    model: transformer-tiny\n";

// The eval runs once after a stand-in run finished, keyed like downstream: a second
// call skips it, a missing CSV is made again without retraining, a failed eval
// fails the call but keeps the training result.
START_TEST(test_runner_evals_standin_runs_once) {
    char *tmp = make_tmp(), err[1024], exe[PATH_MAX], log[PATH_MAX], dir[PATH_MAX],
         path[PATH_MAX + 32];
    snprintf(exe, sizeof exe, "%s/fake-suite", tmp);
    write_text(tmp, "fake-suite", FAKE_SUITE);
    chmod(exe, 0755);
    write_text(tmp, "beside-demo.yaml", STANDIN_DEMO);
    snprintf(log, sizeof log, "%s/invocations", tmp);
    setenv("FAKE_SUITE_LOG", log, 1);
    setenv("MOT_STANDIN_DIR", tmp, 1);  // only its name goes into the arguments
    unsetenv("FAKE_EVAL_FAIL");
    Experiment e;
    snprintf(path, sizeof path, "%s/beside-demo.yaml", tmp);
    ck_assert_msg(!experiment_load(path, SCALE_TINY, &e, err, sizeof err), "%s", err);
    RunnerOptions o = {.root = ".", .results = tmp, .exe = exe};
    runner_run_dir(&o, &e, &e.runs[0], dir, sizeof dir);

    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);
    const char *calls = slurp(tmp, "invocations");
    ck_assert_int_eq(count_lines(calls), 2);
    const char *eval = strstr(calls, "\neval --ckpt ");
    ck_assert_msg(eval && strstr(eval, "/" RUNDIR_CKPT " --batch 4 --seq-len 16 --batches 7 --out ")
                  && strstr(eval, "/" RUNDIR_BESIDE_CSV), "%s", calls);
    ck_assert_ptr_nonnull(strstr(slurp(dir, RUNDIR_BESIDE_ARGS), "key "));
    ResultSet rs;
    snprintf(path, sizeof path, "%s/beside-demo-tiny", tmp);
    ck_assert_msg(!results_load(path, &rs, err, sizeof err), "%s", err);
    ck_assert_double_eq_tol(rs.runs[0].final_eval_loss, 5.5, 1e-12);
    ck_assert_double_eq_tol(rs.runs[0].c4_sample_eval_loss, 6.25, 1e-12);
    results_free(&rs);

    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);  // all done: nothing runs
    ck_assert_int_eq(count_lines(slurp(tmp, "invocations")), 2);

    snprintf(path, sizeof path, "%s/" RUNDIR_BESIDE_CSV, dir);
    ck_assert_int_eq(unlink(path), 0);  // as the runs of an older binary left them
    setenv("FAKE_EVAL_FAIL", "1", 1);
    ck_assert_int_eq(runner_run_experiment(&e, &o), RUN_EXIT_ERROR);
    ck_assert_int_eq(count_lines(slurp(tmp, "invocations")), 3);  // the eval, not training
    ck_assert_ptr_nonnull(strstr(slurp(dir, RUNDIR_BESIDE_LOG), "no such checkpoint"));
    snprintf(path, sizeof path, "%s/beside-demo-tiny", tmp);
    ck_assert_msg(!results_load(path, &rs, err, sizeof err), "%s", err);
    ck_assert_int_eq(rs.runs[0].status, RUN_STATUS_FINISHED);
    ck_assert_double_eq_tol(rs.runs[0].final_eval_loss, 5.5, 1e-12);
    ck_assert(isnan(rs.runs[0].c4_sample_eval_loss));
    results_free(&rs);

    unsetenv("FAKE_EVAL_FAIL");  // the next call retries the eval only
    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);
    calls = slurp(tmp, "invocations");
    ck_assert_int_eq(count_lines(calls), 4);
    ck_assert_int_eq(count_starting(calls, "train"), 1);
    ck_assert_int_eq(count_starting(calls, "eval"), 3);
    ck_assert(!access(path, F_OK));
    experiment_free(&e);
    unsetenv("MOT_STANDIN_DIR");
    remove_tree(tmp);
}
END_TEST

// The report shows the column, and says which loss is judged, only when a run has it.
START_TEST(test_report_shows_c4_sample_column) {
    char *tmp = make_tmp(), err[1024], path[PATH_MAX];
    write_text(tmp, "beside-demo.yaml", STANDIN_DEMO);
    setenv("MOT_STANDIN_DIR", tmp, 1);
    snprintf(path, sizeof path, "%s/beside-demo.yaml", tmp);
    for (int with = 0; with < 2; with++) {
        ExperimentReport r = {0};
        ck_assert_msg(!experiment_load(path, SCALE_TINY, &r.exp, err, sizeof err), "%s", err);
        write_text(tmp, "summary.csv",
                   with ? "run,seed,status,final_eval_loss,c4_sample_eval_loss\n"
                          "Dense,1,finished,5.5,6.25\n"
                        : "run,seed,status,final_eval_loss\nDense,1,finished,5.5\n");
        ck_assert_msg(!results_load(tmp, &r.rs, err, sizeof err), "%s", err);
        snprintf(path, sizeof path, "%s/report.md", tmp);
        ck_assert_msg(!report_write_markdown(path, SCALE_TINY, &r, 1, err, sizeof err), "%s",
                      err);
        const char *md = slurp(tmp, "report.md");
        const char *sentence = strstr(md, "Claims are judged on the validation split of the "
                                          "training data (english-standin); the C4 validation "
                                          "sample is shown beside it (a different distribution).");
        const char *header = strstr(md, "| final eval loss | C4 sample eval loss | final train");
        const char *row = strstr(md, "| Dense | transformer-tiny | finished | 1 / 1 | 5.5000 | ");
        ck_assert_ptr_nonnull(row);
        if (with) {
            ck_assert_msg(sentence && header && sentence < header, "%s", md);
            ck_assert_msg(!strncmp(row + strlen("| Dense | transformer-tiny | finished | 1 / 1 | "
                                                "5.5000 | "),
                                   "6.2500 | - |", 12),
                          "%s", md);
        } else {
            ck_assert_msg(!sentence && !header && !strstr(md, "C4 sample"), "%s", md);
        }
        report_free(&r);
        snprintf(path, sizeof path, "%s/beside-demo.yaml", tmp);
    }
    unsetenv("MOT_STANDIN_DIR");
    remove_tree(tmp);
}
END_TEST

// A real tiny run on stand-in shards (cut from the bundled C4 training sample):
// the runner's eval writes the loss `suite eval` prints for the same checkpoint,
// on the C4 validation sample, and the summary carries it beside its own.
START_TEST(test_real_standin_run_gets_c4_sample_loss) {
    const char *suite = getenv("MOT_SUITE");
    char *tmp = make_tmp(), err[1024], cmd[PATH_MAX * 4], dir[PATH_MAX], path[PATH_MAX];
    const char *c4 = "datasets/c4-sample/c4-train.00000-of-01024.head1000.jsonl";
    snprintf(cmd, sizeof cmd,
             "head -300 %s | gzip > '%s/standin-train.00000-of-00001.json.gz' && "
             "tail -100 %s | gzip > '%s/standin-validation.00000-of-00001.json.gz'",
             c4, tmp, c4, tmp);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/cache", tmp);
    setenv("MOT_CACHE_DIR", path, 1);  // the children's token caches stay in tmp
    setenv("MOT_STANDIN_DIR", tmp, 1);
    write_text(tmp, "real-demo.yaml",
               "name: real-demo\ntitle: beside test\nplot: eval-loss\nscales:\n"
               "  tiny: {steps: 8, batch: 4, seq_len: 16, eval_every: 8, eval_batches: 2, "
               "data: english-standin, seeds: 1}\n"
               "runs:\n  - name: Dense\n    model: transformer-tiny\n");
    Experiment e;
    snprintf(path, sizeof path, "%s/real-demo.yaml", tmp);
    ck_assert_msg(!experiment_load(path, SCALE_TINY, &e, err, sizeof err), "%s", err);
    RunnerOptions o = {.root = ".", .results = tmp, .exe = suite ? suite : "build/suite",
                       .device = "cpu"};
    runner_run_dir(&o, &e, &e.runs[0], dir, sizeof dir);
    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);
    ck_assert_msg(strstr(slurp(dir, RUNDIR_BESIDE_CSV), EVAL_OUT_HEADER "\nc4-sample,2,"), "%s",
                  slurp(dir, RUNDIR_BESIDE_LOG));

    snprintf(cmd, sizeof cmd,
             "'%s' eval --ckpt '%s/" RUNDIR_CKPT "' --batch 4 --seq-len 16 --batches 2 "
             "--device cpu > '%s/printed'",
             o.exe, dir, tmp);
    ck_assert_int_eq(system(cmd), 0);
    double printed = NAN;
    ck_assert_int_eq(sscanf(slurp(tmp, "printed"), "eval loss %lf", &printed), 1);
    ResultSet rs;
    snprintf(path, sizeof path, "%s/real-demo-tiny", tmp);
    ck_assert_msg(!results_load(path, &rs, err, sizeof err), "%s", err);
    double written = NAN;
    ck_assert_int_eq(sscanf(slurp(dir, RUNDIR_BESIDE_CSV), EVAL_OUT_HEADER "\nc4-sample,2,%lf",
                            &written),
                     1);
    ck_assert_double_eq_tol(written, printed, 1e-6);
    // summary.csv keeps 6 significant digits
    ck_assert_double_eq_tol(rs.runs[0].c4_sample_eval_loss, printed, 1e-4);
    ck_assert(isfinite(rs.runs[0].final_eval_loss));
    ck_assert(rs.runs[0].c4_sample_eval_loss != rs.runs[0].final_eval_loss);
    results_free(&rs);
    experiment_free(&e);
    unsetenv("MOT_STANDIN_DIR");
    unsetenv("MOT_CACHE_DIR");
    remove_tree(tmp);
}
END_TEST

static Suite *beside_suite(void) {
    Suite *s = suite_create("c4_sample_beside");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_summary_column_is_optional_and_round_trips);
    tcase_add_test(tc, test_runner_evals_standin_runs_once);
    tcase_add_test(tc, test_report_shows_c4_sample_column);
    tcase_add_test(tc, test_real_standin_run_gets_c4_sample_loss);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(beside_suite()); }
