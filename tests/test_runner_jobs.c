// `suite run A B --jobs 2` really trains: two experiments sharing one run, in a
// scratch checkout (the suite binary copied beside experiments/ and a link to
// datasets/). The shared run trains once and is reused (hard links), each child
// gets OMP_NUM_THREADS = cores / jobs, SIGTERM to the runner stops its children and
// the next call resumes them, a third call trains nothing, and --jobs is checked.
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suite/lab/experiment.h"
#include "suite/lab/experiment_run.h"
#include "suite/paths.h"
#include "suite/rundir.h"
#include "tests/testutil.h"

static char TMP[PATH_MAX], EXE[PATH_MAX], RESULTS[PATH_MAX];

// Every scale alike: 12 tiny steps, a checkpoint every 2 (so an interrupted run
// has one to resume from), one eval batch.
#define SCALE_LINE(s) \
    "  " s ": {steps: 12, batch: 32, seq_len: 16, data: c4-sample, seeds: 1, " \
    "eval_every: 6, eval_batches: 1, ckpt_every: 2}\n"
#define SCALES                                                                     \
    "plot: eval-loss\nscales:\n" SCALE_LINE("paper") SCALE_LINE("small") SCALE_LINE( \
        "cpu") SCALE_LINE("tiny") "runs:\n"

// jobs-b's Dense is jobs-a's Dense (the same key); Dense slow is its own run.
static const char *JOBS_A = "name: jobs-a\ntitle: jobs test\n" SCALES
                            "  - name: Dense\n    model: transformer-tiny\n"
                            "  - name: MoT\n    model: mot-tiny/8e\n";
static const char *JOBS_B = "name: jobs-b\ntitle: jobs test\n" SCALES
                            "  - name: Dense\n    model: transformer-tiny\n"
                            "  - name: Dense slow\n    model: transformer-tiny\n    lr: 2e-4\n";

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

// The whole of path (static buffer; "" when missing).
static const char *slurp(const char *path) {
    static char buf[1 << 16];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

static int count_of(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

// `suite run ARGS` with stdout+stderr to TMP/out; its exit code.
static int suite_run(const char *args) {
    char cmd[PATH_MAX * 3];
    snprintf(cmd, sizeof cmd, "'%s' run %s --results '%s' > '%s/out' 2>&1", EXE, args, RESULTS,
             TMP);
    int status = system(cmd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *output(void) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/out", TMP);
    return slurp(path);
}

// The scratch checkout: TMP/suite, TMP/datasets -> ./datasets, TMP/experiments.
static void make_checkout(void) {
    const char *suite = getenv("MOT_SUITE");
    char cmd[PATH_MAX * 3], path[PATH_MAX], cwd[PATH_MAX];
    snprintf(TMP, sizeof TMP, "/tmp/mot-jobs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(TMP));
    snprintf(EXE, sizeof EXE, "%s/suite", TMP);
    snprintf(RESULTS, sizeof RESULTS, "%s/results", TMP);
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && ln -s '%s/datasets' '%s/datasets' && mkdir '%s/experiments'",
             suite ? suite : "build/suite", EXE, cwd, TMP, TMP);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/experiments/jobs-a.yaml", TMP);
    write_file(path, JOBS_A);
    snprintf(path, sizeof path, "%s/experiments/jobs-b.yaml", TMP);
    write_file(path, JOBS_B);
}

static void load(const char *name, Experiment *e) {
    char path[PATH_MAX], err[1024];
    snprintf(path, sizeof path, "%s/experiments/%s.yaml", TMP, name);
    ck_assert_msg(!experiment_load(path, SCALE_TINY, e, err, sizeof err), "%s", err);
}

static void run_file(const Experiment *e, int run, const char *file, char *out, size_t len) {
    RunnerOptions o = {.results = RESULTS};
    char dir[PATH_MAX];
    runner_run_dir(&o, e, &e->runs[run], dir, sizeof dir);
    snprintf(out, len, "%s/%s", dir, file);
}

static struct stat stat_of(const Experiment *e, int run, const char *file) {
    char path[PATH_MAX + 64];
    struct stat st;
    run_file(e, run, file, path, sizeof path);
    ck_assert_msg(!stat(path, &st), "%s missing", path);
    return st;
}

// Start `suite run jobs-a jobs-b --jobs 2`, SIGTERM it once jobs-a's Dense has
// written its first checkpoint (of 6): exit 130, the run left resumable.
static void interrupt_first_call(const Experiment *a) {
    char ckpt[PATH_MAX + 64], out[PATH_MAX];
    run_file(a, 0, RUNDIR_CKPT, ckpt, sizeof ckpt);
    snprintf(out, sizeof out, "%s/out", TMP);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        freopen(out, "w", stdout);
        dup2(fileno(stdout), 2);
        execl(EXE, "suite", "run", "jobs-a", "jobs-b", "--jobs", "2", "--results", RESULTS,
              (char *)NULL);
        _exit(127);
    }
    struct timespec nap = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 6000 && access(ckpt, F_OK); i++) nanosleep(&nap, NULL);
    ck_assert_msg(!access(ckpt, F_OK), "no checkpoint in 2 minutes: %s", output());
    kill(pid, SIGTERM);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == RUN_EXIT_INTERRUPTED, "%s",
                  output());
    ck_assert_msg(strstr(output(), "interrupted; run the same command again"), "%s", output());
    char dir[PATH_MAX];
    RunnerOptions o = {.results = RESULTS};
    runner_run_dir(&o, a, &a->runs[0], dir, sizeof dir);
    StrList args = {0};
    char key[17], err[1024];
    ck_assert(!runner_train_args(a, &a->runs[0], &o, &args, key, err, sizeof err));
    ck_assert_int_eq(runner_run_state(dir, key), RUN_RESUME);
    strlist_free(&args);
}

START_TEST(test_jobs_train_share_resume_and_skip) {
    unsetenv("OMP_NUM_THREADS");  // the runner sets it per child
    make_checkout();
    Experiment a, b;
    load("jobs-a", &a);
    load("jobs-b", &b);
    interrupt_first_call(&a);

    // The next call resumes, trains the shared Dense once and reuses it in jobs-b:
    // with 3 jobs jobs-b's Dense has a free slot, but waits for jobs-a's.
    ck_assert_msg(suite_run("jobs-a jobs-b --jobs 3") == 0, "%s", output());
    const char *out = output();
    ck_assert_msg(strstr(out, "resuming from step"), "%s", out);
    ck_assert_msg(count_of(out, "reused, not retrained") == 1, "%s", out);
    ck_assert_msg(strstr(out, "4 of 4 runs done"), "%s", out);
    struct stat shared = stat_of(&a, 0, RUNDIR_CKPT);
    ck_assert_int_eq(stat_of(&b, 0, RUNDIR_CKPT).st_ino, shared.st_ino);
    ck_assert_int_eq(stat_of(&b, 0, RUNDIR_TRAIN_LOG).st_ino, stat_of(&a, 0, RUNDIR_TRAIN_LOG).st_ino);
    ck_assert_int_ne(stat_of(&b, 1, RUNDIR_CKPT).st_ino, shared.st_ino);
    const Experiment *all[2] = {&a, &b};
    off_t sizes[4];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char threads[32], path[PATH_MAX + 64];
    snprintf(threads, sizeof threads, "(%ld threads)", cores / 3 > 1 ? cores / 3 : 1);
    for (int k = 0; k < 4; k++) {
        long step;
        run_file(all[k / 2], k % 2, "", path, sizeof path);
        ck_assert_int_eq(run_status_read(path, &step), RUN_STATUS_FINISHED);
        ck_assert_int_eq(step, 12);
        sizes[k] = stat_of(all[k / 2], k % 2, RUNDIR_TRAIN_LOG).st_size;
        run_file(all[k / 2], k % 2, RUNDIR_TRAIN_LOG, path, sizeof path);
        ck_assert_msg(strstr(slurp(path), threads), "%s: no %s", path, threads);
    }

    // A third call trains nothing: every run skipped, no train.log grows.
    ck_assert_msg(suite_run("jobs-a jobs-b --jobs 2") == 0, "%s", output());
    ck_assert_msg(count_of(output(), "earlier with this configuration, skipped") == 4, "%s",
                  output());
    ck_assert_ptr_null(strstr(output(), "started ("));
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(stat_of(all[k / 2], k % 2, RUNDIR_TRAIN_LOG).st_size, sizes[k]);
    experiment_free(&a);
    experiment_free(&b);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

// Bad --jobs values and an unknown name among several stop before anything runs.
START_TEST(test_bad_jobs_and_names_are_usage_errors) {
    make_checkout();
    ck_assert_int_eq(suite_run("jobs-a --jobs 0"), RUN_EXIT_USAGE);
    ck_assert_msg(strstr(output(), "--jobs must be 1 to 64 training runs at once (got 0)"), "%s",
                  output());
    ck_assert_int_eq(suite_run("jobs-a --jobs x"), RUN_EXIT_USAGE);
    ck_assert_msg(strstr(output(), "bad value for --jobs: 'x'"), "%s", output());
    ck_assert_int_eq(suite_run("jobs-a --jobs 65"), RUN_EXIT_USAGE);
    ck_assert_int_eq(suite_run("jobs-a no-such-experiment --jobs 2"), RUN_EXIT_USAGE);
    ck_assert_msg(strstr(output(), "unknown experiment 'no-such-experiment'"), "%s", output());
    ck_assert_int_eq(access(RESULTS, F_OK), -1);  // nothing ran, nothing written
    ck_assert_int_eq(suite_run("--help"), 0);
    ck_assert_msg(strstr(output(), "EXPERIMENT [EXPERIMENT ...]") && strstr(output(), "--jobs"),
                  "%s", output());
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *runner_jobs_suite(void) {
    Suite *s = suite_create("runner_jobs");
    TCase *tc = tcase_create("jobs");
    tcase_set_timeout(tc, 240);  // real training on a shared 2-core machine
    tcase_add_test(tc, test_bad_jobs_and_names_are_usage_errors);
    tcase_add_test(tc, test_jobs_train_share_resume_and_skip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(runner_jobs_suite()); }
