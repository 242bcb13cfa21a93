// Experiment definitions and the runner: every definition expands to the runs
// SPEC §5 lists at each scale (with seed replicates and an explicit precision)
// with models the registry knows and the paper's LRs; malformed files
// fail with file:line; the runner skips finished runs and resumes the others
// (against a fake `suite` binary, so nothing is trained).
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "impls/model.h"
#include "suite/lab/experiment.h"
#include "suite/lab/experiment_plot.h"
#include "suite/lab/experiment_run.h"
#include "suite/paths.h"
#include "suite/rundir.h"
#include "suite/lab/results.h"
#include "tests/testutil.h"

typedef struct {
    const char *experiment;
    const char *runs[N_SCALES][6];  // NULL-terminated per scale
} Expected;

#define FIG_PARAMS_RUNS                                                             \
    {                                                                               \
        "Transformer-Medium", "MoT-Medium/8E", "MoT-Medium/32E", "MoT-Medium/128E", \
            "MoT-Medium/32E uniform", NULL                                          \
    }
#define GRANULARITY_RUNS \
    { "MoT-Medium/32E/1", "MoT-Medium/32E/8", "MoT-Medium/32E/16", "MoT-Medium/32E/32", NULL }
#define SMOE_RUNS \
    { "MoT-Medium/32E/16", "MoT-Medium/32E/8", "EC-Medium/32E", "TC-Medium/32E", NULL }
#define SPEEDUP_RUNS \
    { "Transformer-Base", "MoT-Base/32E", "MoT-Base/64E/16", NULL }
#define PRECISION_RUNS                                                              \
    {                                                                               \
        "MoT-Medium/32E (mixed)", "EC-Medium/32E (mixed)", "MoT-Medium/32E (bf16)", \
            "EC-Medium/32E (bf16)", NULL                                            \
    }
#define DOWNSTREAM_RUNS \
    { "Transformer-Medium", "MoT-Medium/32E/1", "MoT-Medium/32E/16", NULL }

// SPEC §5, per scale (paper, small, cpu, tiny). Small, cpu and tiny have one model
// size, so the Base transition run exists at paper scale only; cpu trains batches
// of 32, which cannot hold the 128- and 64-sequence groups of /128E and /64E/16.
#define CPU_PARAMS_RUNS \
    { "Transformer-Medium", "MoT-Medium/8E", "MoT-Medium/32E", "MoT-Medium/32E uniform", NULL }
#define CPU_SPEEDUP_RUNS \
    { "Transformer-Base", "MoT-Base/32E", NULL }
#define TRANSITION_RUNS \
    { "MoT-Medium/32E to TC", "MoT-Medium/32E control", NULL }
static const Expected EXPECTED[] = {
    {"fig-params", {FIG_PARAMS_RUNS, FIG_PARAMS_RUNS, CPU_PARAMS_RUNS, FIG_PARAMS_RUNS}},
    {"fig-granularity", {GRANULARITY_RUNS, GRANULARITY_RUNS, GRANULARITY_RUNS, GRANULARITY_RUNS}},
    {"fig-smoe", {SMOE_RUNS, SMOE_RUNS, SMOE_RUNS, SMOE_RUNS}},
    {"fig-speedup", {SPEEDUP_RUNS, SPEEDUP_RUNS, CPU_SPEEDUP_RUNS, SPEEDUP_RUNS}},
    {"table-precision", {PRECISION_RUNS, PRECISION_RUNS, PRECISION_RUNS, PRECISION_RUNS}},
    {"fig-transition",
     {{"MoT-Medium/32E to TC", "MoT-Base/32E to TC", "MoT-Medium/32E control",
       "MoT-Base/32E control", NULL},
      TRANSITION_RUNS, TRANSITION_RUNS, TRANSITION_RUNS}},
    {"table-downstream", {DOWNSTREAM_RUNS, DOWNSTREAM_RUNS, DOWNSTREAM_RUNS, DOWNSTREAM_RUNS}},
};
enum { N_EXPECTED = sizeof(EXPECTED) / sizeof(EXPECTED[0]) };

// Each run as consecutive seed replicates, seeds 1..N in <slug>/seed-<s>: the
// scale's default N (1 at paper and tiny, 3 at small and cpu) unless the
// definition gives the run its own; every scale states its precision, so a run
// key never depends on the device's default.
START_TEST(test_every_definition_expands_to_the_spec_runs) {
    char names[64][EXP_NAME_LEN], err[1024];
    int n = experiment_list_names(".", names, 64);
    ck_assert_int_eq(n, N_EXPECTED);
    for (int i = 0; i < N_EXPECTED; i++)
        for (int s = 0; s < N_SCALES; s++) {
            Experiment e;
            int rc =
                experiment_load_by_name(".", EXPECTED[i].experiment, (Scale)s, &e, err, sizeof err);
            ck_assert_msg(rc == 0, "%s", err);
            int at = 0;
            for (int k = 0; EXPECTED[i].runs[s][k]; k++) {
                ck_assert_msg(at < e.n_runs, "%s at %s: runs missing from %s", e.name,
                              scale_name((Scale)s), EXPECTED[i].runs[s][k]);
                int n_seeds = e.runs[at].n_seeds;
                if (s != SCALE_CPU) ck_assert_int_eq(n_seeds, scale_info((Scale)s)->seeds);
                for (int r = 0; r < n_seeds; r++, at++) {
                    const RunSpec *run = &e.runs[at];
                    ck_assert_int_lt(at, e.n_runs);
                    ck_assert_str_eq(run->name, EXPECTED[i].runs[s][k]);
                    ck_assert_int_eq(run->replicate, r);
                    ck_assert_int_eq(run_number(run, "seed"), r + 1);
                    char tail[16];
                    snprintf(tail, sizeof tail, "/seed-%d", r + 1);
                    ck_assert_str_eq(run->slug + strlen(run->slug) - strlen(tail), tail);
                    ck_assert_msg(run_value(run, "precision"), "%s: no precision", run->name);
                    if (s == SCALE_TINY && strcmp(e.name, "table-precision"))  // its point
                        ck_assert_str_eq(run_value(run, "precision"), "fp32");
                }
            }
            ck_assert_msg(at == e.n_runs, "%s at %s: %d runs, expected %d", e.name,
                          scale_name((Scale)s), e.n_runs, at);
            experiment_free(&e);
        }
}
END_TEST

// Every model exists, G fits the batch, and the paper scale trains the paper's
// models on C4 for the paper's steps.
START_TEST(test_every_run_is_trainable_as_defined) {
    char names[64][EXP_NAME_LEN], err[1024];
    int n = experiment_list_names(".", names, 64);
    for (int i = 0; i < n; i++)
        for (int s = 0; s < N_SCALES; s++) {
            Experiment e;
            ck_assert_msg(!experiment_load_by_name(".", names[i], (Scale)s, &e, err, sizeof err),
                          "%s", err);
            for (int r = 0; r < e.n_runs; r++) {
                const RunSpec *run = &e.runs[r];
                ModelConfig cfg;
                const char *model = run_value(run, "model");
                long batch = run_number(run, "batch");
                ck_assert_msg(!model_config_by_name(model, &cfg, err, sizeof err), "%s: %s",
                              names[i], err);
                int G = cfg.group_size > 0 ? cfg.group_size : 1;
                ck_assert_msg(batch % G == 0, "%s %s: batch %ld, G %d", names[i], run->name, batch,
                              G);
                int T = run_value(run, "seq_len") ? (int)run_number(run, "seq_len") : cfg.max_seq_len;
                ck_assert_int_le(T, cfg.max_seq_len);
                if (s == SCALE_PAPER) {
                    ck_assert_str_eq(run->data, "c4");
                    ck_assert_int_eq(batch, 256);
                    ck_assert_int_eq(T, 256);
                    ck_assert_msg(strstr(model, "medium") || strstr(model, "base"), "%s", model);
                }
                ck_assert_int_eq(cfg.vocab_size != 50257, s == SCALE_CPU);  // labelled: cpu only
                if (s == SCALE_CPU) ck_assert_msg(strstr(model, "-cpu"), "%s", model);
                if (s == SCALE_TINY) {
                    ck_assert_msg(strstr(model, "-tiny"), "%s", model);
                    ck_assert_int_le(run_number(run, "steps"), 200);
                }
            }
            experiment_free(&e);
        }
}
END_TEST

static void expect_error(const char *file, const char *needle) {
    char path[256], err[1024];
    snprintf(path, sizeof path, "tests/data/experiments/%s", file);
    Experiment e;
    ck_assert_int_eq(experiment_load(path, SCALE_TINY, &e, err, sizeof err), -1);
    ck_assert_msg(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
}

START_TEST(test_malformed_files_name_file_and_line) {
    expect_error("bad-key.yaml", "tests/data/experiments/bad-key.yaml:14: unknown key 'stpes'");
    expect_error("bad-scale.yaml", "tests/data/experiments/bad-scale.yaml:10: unknown scale 'tny'");
    expect_error("bad-value.yaml",
                 "tests/data/experiments/bad-value.yaml:7: steps: 'ten' is not an integer");
    expect_error("bad-flag.yaml",
                 "tests/data/experiments/bad-flag.yaml:11: device is set by `suite run` itself");
    expect_error("bad-syntax.yaml", "tests/data/experiments/bad-syntax.yaml:6: YAML syntax error");
    expect_error("missing.yaml", "missing.yaml: cannot open");
    // A reduced vocabulary is the cpu scale's lever only (labelled there).
    expect_error("bad-vocab.yaml",
                 "tests/data/experiments/bad-vocab.yaml:8: run 'Dense': transformer-cpu has a "
                 "reduced vocabulary (V=8192), allowed at the cpu scale only");
    // The name must match the file, so `suite run NAME` finds what it runs.
    char err[1024];
    Experiment e;
    ck_assert_int_eq(experiment_load_by_name(".", "fig-parms", SCALE_TINY, &e, err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "unknown experiment 'fig-parms'") && strstr(err, "fig-params"), "%s",
                  err);
}
END_TEST

// Per-scale values, run overrides and a run absent at small/tiny.
START_TEST(test_values_per_scale_and_overrides) {
    char err[1024];
    Experiment e;
    ck_assert_msg(!experiment_load("tests/data/experiments/resume-demo.yaml", SCALE_PAPER, &e, err,
                                   sizeof err),
                  "%s", err);
    ck_assert_int_eq(e.n_runs, 3);
    ck_assert_str_eq(run_value(&e.runs[2], "model"), "mot-medium/32e");
    ck_assert_int_eq(run_number(&e.runs[0], "steps"), 1000);
    experiment_free(&e);
    ck_assert_msg(!experiment_load("tests/data/experiments/resume-demo.yaml", SCALE_TINY, &e, err,
                                   sizeof err),
                  "%s", err);
    ck_assert_int_eq(e.n_runs, 2);
    ck_assert_str_eq(run_value(&e.runs[1], "model"), "mot-tiny/8e");
    ck_assert_str_eq(e.runs[1].slug, "mot_8e/seed-1");
    ck_assert_int_eq(run_number(&e.runs[1], "seq_len"), 32);
    ck_assert_double_eq_tol(atof(run_value(&e.runs[1], "lr")), 1e-3, 1e-12);
    ck_assert_ptr_null(run_value(&e.runs[0], "lr"));  // left to suite train's default
    experiment_free(&e);
}
END_TEST

static int has_arg_pair(const StrList *l, const char *a, const char *b) {
    for (int i = 0; i + 1 < l->count; i++)
        if (!strcmp(l->items[i], a) && !strcmp(l->items[i + 1], b)) return 1;
    return 0;
}

// The key follows the configuration, not where the data happens to live.
START_TEST(test_train_args_and_key) {
    char err[1024], key1[17], key2[17], key3[17];
    Experiment e;
    ck_assert_msg(!experiment_load_by_name(".", "fig-transition", SCALE_SMALL, &e, err, sizeof err),
                  "%s", err);
    RunnerOptions o = {.root = ".", .results = "/tmp/unused"};
    StrList a = {0}, b = {0}, c = {0};
    setenv("MOT_STANDIN_DIR", "tests", 1);
    ck_assert_msg(!runner_train_args(&e, &e.runs[0], &o, &a, key1, err, sizeof err), "%s", err);
    setenv("MOT_STANDIN_DIR", "tests/data", 1);
    ck_assert(!runner_train_args(&e, &e.runs[0], &o, &b, key2, err, sizeof err));
    ck_assert_str_eq(key1, key2);
    ck_assert(has_arg_pair(&a, "--train-data", "tests/standin-train.*.json.gz"));
    ck_assert(has_arg_pair(&a, "--model", "mot-mini/32e"));
    ck_assert(has_arg_pair(&a, "--transition-at", "3000"));
    ck_assert(has_arg_pair(&a, "--tag", "experiment=fig-transition"));
    ck_assert(has_arg_pair(&a, "--out",
                           "/tmp/unused/runs/fig-transition/small/mot-medium_32e-to-tc/seed-1"));
    ck_assert(has_arg_pair(&a, "--precision", "mixed"));
    // Seed replicates are configurations of their own.
    char key_seed2[17];
    StrList s2 = {0};
    ck_assert(!runner_train_args(&e, &e.runs[1], &o, &s2, key_seed2, err, sizeof err));
    ck_assert(has_arg_pair(&s2, "--seed", "2"));
    ck_assert_str_ne(key1, key_seed2);
    strlist_free(&s2);
    ck_assert(!run_set_value(&e.runs[0], "steps", "3301", err, sizeof err));  // was 3300
    ck_assert(!runner_train_args(&e, &e.runs[0], &o, &c, key3, err, sizeof err));
    ck_assert_str_ne(key1, key3);
    setenv("MOT_STANDIN_DIR", "/nonexistent", 1);
    StrList d = {0};
    ck_assert_int_eq(runner_train_args(&e, &e.runs[0], &o, &d, key3, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "MOT_STANDIN_DIR"), "%s", err);
    unsetenv("MOT_STANDIN_DIR");
    strlist_free(&a);
    strlist_free(&b);
    strlist_free(&c);
    strlist_free(&d);
    experiment_free(&e);
}
END_TEST

// The run key hashes the sorted name=value pairs of the options that change results
// and differ from their defaults: writing a default out, setting an option that does
// not change results, or adding a new option at its default keeps finished runs valid.
START_TEST(test_run_key_survives_defaults_and_new_options) {
    char err[1024], base[17], key[17];
    Experiment e;
    ck_assert_msg(!experiment_load("tests/data/experiments/resume-demo.yaml", SCALE_TINY, &e, err,
                                   sizeof err),
                  "%s", err);
    RunSpec run = e.runs[1];
    runner_run_key(TRAIN_OPTIONS, N_TRAIN_OPTIONS, run.values, run.data, base);
    ck_assert(!run_set_value(&run, "clip", "0.50", err, sizeof err));  // the default, spelt out
    ck_assert(!run_set_value(&run, "ckpt_every", "7", err, sizeof err));  // no effect on results
    ck_assert(!run_set_value(&run, "comm_timeout", "30", err, sizeof err));
    ck_assert(!run_set_value(&run, "shared_stream", "false", err, sizeof err));
    runner_run_key(TRAIN_OPTIONS, N_TRAIN_OPTIONS, run.values, run.data, key);
    ck_assert_str_eq(key, base);

    // A new option appended to the table: not given, or given at its default.
    TrainOption table[TRAIN_OPTIONS_MAX];
    int n = N_TRAIN_OPTIONS;
    ck_assert_int_lt(n, TRAIN_OPTIONS_MAX);
    memcpy(table, TRAIN_OPTIONS, n * sizeof *table);
    table[n] = (TrainOption){"router-temperature", OPT_FLOAT, offsetof(TrainOptions, clip), "1.0",
                             NULL, OPT_CHANGES_RESULT, "X", "a new option"};
    runner_run_key(table, n + 1, run.values, run.data, key);
    ck_assert_str_eq(key, base);
    snprintf(run.values[n], EXP_VALUE_LEN, "1");
    runner_run_key(table, n + 1, run.values, run.data, key);
    ck_assert_str_eq(key, base);
    // The pairs are sorted: the table's order does not matter.
    TrainOption reversed[TRAIN_OPTIONS_MAX];
    char values[TRAIN_OPTIONS_MAX][EXP_VALUE_LEN];
    for (int i = 0; i <= n; i++) {
        reversed[i] = table[n - i];
        memcpy(values[i], run.values[n - i], EXP_VALUE_LEN);
    }
    runner_run_key(reversed, n + 1, (const char(*)[EXP_VALUE_LEN])values, run.data, key);
    ck_assert_str_eq(key, base);
    // Off its default the new option is a new configuration, as is any other change.
    snprintf(run.values[n], EXP_VALUE_LEN, "0.7");
    runner_run_key(table, n + 1, run.values, run.data, key);
    ck_assert_str_ne(key, base);
    ck_assert(!run_set_value(&run, "clip", "0.25", err, sizeof err));
    runner_run_key(TRAIN_OPTIONS, n, run.values, run.data, key);
    ck_assert_str_ne(key, base);
    RunSpec shared = e.runs[1];
    ck_assert(!run_set_value(&shared, "shared_stream", "true", err, sizeof err));
    runner_run_key(TRAIN_OPTIONS, n, shared.values, shared.data, key);
    ck_assert_str_ne(key, base);
    ck_assert_int_eq(run_set_value(&run, "clip", "lots", err, sizeof err), -1);
    ck_assert_str_eq(err, "clip: 'lots' is not a number");
    experiment_free(&e);
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
    fclose(f);
    return n;
}

// A fake `suite`: logs its arguments, then leaves a finished run in --out.
static const char *FAKE_SUITE =
    "#!/bin/sh\n"
    "echo \"$*\" >> \"$FAKE_SUITE_LOG\"\n"
    "prev=''; out=''\n"
    "for a in \"$@\"; do [ \"$prev\" = --out ] && out=\"$a\"; prev=\"$a\"; done\n"
    "printf '{\"status\": \"finished\", \"step\": 10, \"final_eval_loss\": 5.5, \"diverged_at\": "
    "null}' > \"$out/status.json\"\n"
    "printf 'step,tokens,eval_loss,mode\\n10,10240,5.5,mot\\n' > \"$out/eval.csv\"\n";

static ino_t inode_of(const RunnerOptions *o, const Experiment *e, int run) {
    char dir[PATH_MAX], path[PATH_MAX + 32];
    runner_run_dir(o, e, &e->runs[run], dir, sizeof dir);
    snprintf(path, sizeof path, "%s/" RUNDIR_STATUS, dir);
    struct stat st;
    ck_assert_msg(!stat(path, &st), "%s", path);
    return st.st_ino;
}

// reuse-demo's Dense run is resume-demo's. reuse-demo has 3 seeds at tiny: seed 1
// (finished by resume-demo) is reused, not retrained (the same inodes), seeds 2
// and 3 are trained. Then resume-demo with 3 seeds reuses those two replicates
// of Dense and trains only its MoT's seeds 2 and 3.
static void check_twin_reused(const RunnerOptions *o, const Experiment *e, const char *log) {
    char err[1024];
    Experiment twin;
    ck_assert(!experiment_load("tests/data/experiments/reuse-demo.yaml", SCALE_TINY, &twin, err,
                               sizeof err));
    ck_assert_int_eq(twin.n_runs, 3);
    int before = count_lines(log);
    ck_assert_int_eq(runner_run_experiment(&twin, o), 0);
    ck_assert_int_eq(count_lines(log), before + 2);
    ck_assert_int_eq(inode_of(o, &twin, 0), inode_of(o, e, 0));
    Experiment more = {0};
    ck_assert(!experiment_load("tests/data/experiments/resume-demo.yaml", SCALE_TINY, &more, err,
                               sizeof err));
    experiment_set_seeds(&more, 3);  // Dense x 3, then MoT/8E x 3
    ck_assert_int_eq(runner_run_experiment(&more, o), 0);
    ck_assert_int_eq(count_lines(log), before + 4);
    ck_assert_int_eq(inode_of(o, &more, 1), inode_of(o, &twin, 1));
    ck_assert_int_eq(inode_of(o, &more, 2), inode_of(o, &twin, 2));
    experiment_free(&more);
    experiment_free(&twin);
}

START_TEST(test_resume_reruns_nothing_that_finished) {
    char tmp[] = "/tmp/mot-runner-XXXXXX", err[1024], exe[PATH_MAX], path[PATH_MAX], log[PATH_MAX],
         dir[2][PATH_MAX];
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(exe, sizeof exe, "%s/fake-suite", tmp);
    write_file(tmp, "fake-suite", FAKE_SUITE);
    chmod(exe, 0755);
    snprintf(log, sizeof log, "%s/invocations", tmp);
    setenv("FAKE_SUITE_LOG", log, 1);

    Experiment e;
    ck_assert_msg(!experiment_load("tests/data/experiments/resume-demo.yaml", SCALE_TINY, &e, err,
                                   sizeof err),
                  "%s", err);
    RunnerOptions o = {.root = ".", .results = tmp, .exe = exe};
    // Run 0 finished earlier; run 1 was interrupted at step 4.
    for (int r = 0; r < 2; r++) {
        StrList args = {0};
        char key[17], text[64];
        ck_assert(!runner_train_args(&e, &e.runs[r], &o, &args, key, err, sizeof err));
        runner_run_dir(&o, &e, &e.runs[r], dir[r], sizeof dir[r]);
        ck_assert(!make_dirs(dir[r], err, sizeof err));
        snprintf(text, sizeof text, "key %s\n", key);
        write_file(dir[r], "train.args", text);
        write_file(dir[r], "status.json",
                   r == 0 ? "{\"status\": \"finished\", \"step\": 10, \"final_eval_loss\": 6.0}"
                          : "{\"status\": \"running\", \"step\": 4}");
        ck_assert_int_eq(runner_run_state(dir[r], key), r == 0 ? RUN_FINISHED : RUN_RESUME);
        ck_assert_int_eq(runner_run_state(dir[r], "0123456789abcdef"), RUN_STALE);
        strlist_free(&args);
    }
    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);
    ck_assert_int_eq(count_lines(log), 1);  // only the interrupted run, resumed
    FILE *f = fopen(log, "r");
    char line[4096];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_msg(
        strstr(line, dir[1]) && strstr(line, "--resume") && strstr(line, "--model mot-tiny/8e"),
        "%s", line);
    ck_assert_ptr_null(strstr(line, dir[0]));

    // A second pass finds everything finished and runs nothing.
    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);
    ck_assert_int_eq(count_lines(log), 1);

    // The summary lists both runs with their own final losses.
    ResultSet rs;
    snprintf(path, sizeof path, "%s/resume-demo-tiny", tmp);
    ck_assert_msg(!results_load(path, &rs, err, sizeof err), "%s", err);
    ck_assert_int_eq(rs.n_runs, 2);
    ck_assert_int_eq(rs.runs[0].status, RUN_STATUS_FINISHED);
    ck_assert_double_eq_tol(rs.runs[0].final_eval_loss, 6.0, 1e-9);
    ck_assert_double_eq_tol(rs.runs[1].final_eval_loss, 5.5, 1e-9);
    ck_assert_int_eq(rs.n_evals, 1);
    results_free(&rs);

    // Another experiment with the same Dense run reuses it, seed replicates too.
    check_twin_reused(&o, &e, log);

    // An edited definition re-runs the edited run from scratch, keeping the old one.
    int before = count_lines(log);
    ck_assert(!run_set_value(&e.runs[0], "steps", "11", err, sizeof err));
    ck_assert_int_eq(runner_run_experiment(&e, &o), 0);
    ck_assert_int_eq(count_lines(log), before + 1);
    snprintf(path, sizeof path, "%s.old-", dir[0]);
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "ls -d '%s'* > /dev/null", path);
    ck_assert_int_eq(system(probe), 0);

    experiment_free(&e);
    snprintf(probe, sizeof probe, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(probe), 0);
}
END_TEST

static long file_size(const char *dir, const char *name, const char *ext) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    struct stat st;
    return stat(path, &st) ? -1 : (long)st.st_size;
}

// Every figure script renders a PNG and an SVG from curves shaped like real ones
// (a transition run has an MoT and a TC phase; the precision table plots the
// training loss).
START_TEST(test_every_figure_renders) {
    char names[64][EXP_NAME_LEN], err[1024], tmp[] = "/tmp/mot-plots-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    int n = experiment_list_names(".", names, 64);
    for (int i = 0; i < n; i++) {
        Experiment e;
        ck_assert(!experiment_load_by_name(".", names[i], SCALE_TINY, &e, err, sizeof err));
        ResultSet rs = {0};
        rs.evals = calloc(64 * e.n_runs, sizeof(CurvePoint));
        rs.train = calloc(64 * e.n_runs, sizeof(CurvePoint));
        for (int r = 0; r < e.n_runs; r++)
            for (int k = 1; k <= 10; k++) {
                // the transition's last eval as TC
                int tc = k > 9 && run_value(&e.runs[r], "transition_at");
                CurvePoint p = {.step = k * 10,
                                .loss = 8.0 - 0.2 * k - 0.1 * r,
                                .seed = run_number(&e.runs[r], "seed")};
                snprintf(p.run, sizeof p.run, "%s", e.runs[r].name);
                snprintf(p.mode, sizeof p.mode, "%s", tc ? "tc" : "mot");
                rs.evals[rs.n_evals++] = p;
                rs.train[rs.n_train++] = p;
            }
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%s", tmp, e.name);
        ck_assert(!make_dirs(dir, err, sizeof err));
        ck_assert_msg(!experiment_plot(&e, &rs, ".", dir, err, sizeof err), "%s: %s", e.name, err);
        ck_assert_msg(file_size(dir, e.name, "png") > 1000, "%s.png", e.name);
        ck_assert_msg(file_size(dir, e.name, "svg") > 1000, "%s.svg", e.name);
        if (!strcmp(e.name, "fig-transition")) {  // and the training loss, the paper's figure
            char train[EXP_NAME_LEN + 8];
            snprintf(train, sizeof train, "%s-train", e.name);
            ck_assert_msg(file_size(dir, train, "png") > 1000, "%s.png", train);
        }
        results_free(&rs);
        experiment_free(&e);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *experiments_suite(void) {
    Suite *s = suite_create("experiments");
    TCase *tc = tcase_create("definitions");
    tcase_add_test(tc, test_every_definition_expands_to_the_spec_runs);
    tcase_add_test(tc, test_every_run_is_trainable_as_defined);
    tcase_add_test(tc, test_malformed_files_name_file_and_line);
    tcase_add_test(tc, test_values_per_scale_and_overrides);
    tcase_add_test(tc, test_train_args_and_key);
    tcase_add_test(tc, test_run_key_survives_defaults_and_new_options);
    suite_add_tcase(s, tc);
    TCase *run = tcase_create("runner");
    tcase_set_timeout(run, 60);
    tcase_add_test(run, test_resume_reruns_nothing_that_finished);
    tcase_add_test(run, test_every_figure_renders);
    suite_add_tcase(s, run);
    return s;
}

int main(void) { return test_run_suite(experiments_suite()); }
