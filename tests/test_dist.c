// Data parallelism (kernels/comm.h over MPI): collectives across 2 ranks, a dead or
// hung rank ending the job, and a 2-rank training run matching a 1-rank run.
//
// Multi-rank cases re-run this binary under `mpirun -np 2` with a hard timeout,
// so a hang fails the test instead of stalling CI. Run as `test_dist
// --comm-worker MODE` it is the per-rank program of the comm checks; run as
// `test_dist train ...` it is `suite train` (the suite's objects are linked in).
// Run from the repository root (make test), where the default data lives.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "impls/checkpoint.h"
#include "impls/model.h"
#include "kernels/comm.h"
#include "kernels/common.h"
#include "suite/cli/commands.h"
#include "suite/csvio.h"
#include "tests/testutil.h"

// ---- per-rank worker --------------------------------------------------------

enum { WORKER_N = 1000 };

// allreduce_mean, broadcast from a non-zero root, sum_scalar, barrier. Every value
// is exactly representable, so the checks are exact.
static int worker_collectives(Comm *c) {
    int rank = comm_rank(c), size = comm_size(c);
    float buf[WORKER_N];
    for (int i = 0; i < WORKER_N; i++) buf[i] = (float)(rank * 1000 + i);
    comm_allreduce_mean(c, buf, WORKER_N);
    float rank_mean = 1000.0f * (float)(size - 1) / 2.0f;
    for (int i = 0; i < WORKER_N; i++)
        if (buf[i] != rank_mean + (float)i) {
            printf("rank %d: allreduce_mean[%d] = %g, want %g\n", rank, i, buf[i],
                   rank_mean + (float)i);
            return 1;
        }
    int root = size - 1;
    for (int i = 0; i < WORKER_N; i++) buf[i] = rank == root ? 0.5f * (float)i : -1.0f;
    comm_broadcast(c, buf, WORKER_N, root);
    for (int i = 0; i < WORKER_N; i++)
        if (buf[i] != 0.5f * (float)i) {
            printf("rank %d: broadcast[%d] = %g, want %g\n", rank, i, buf[i], 0.5f * (float)i);
            return 1;
        }
    double sum = comm_sum_scalar(c, rank + 1.0);
    if (sum != size * (size + 1) / 2.0) {
        printf("rank %d: sum_scalar = %g, want %g\n", rank, sum, size * (size + 1) / 2.0);
        return 1;
    }
    comm_barrier(c);
    printf("rank %d/%d ok\n", rank, size);
    return 0;
}

// MODE: "collectives"; "exit" / "kill" / "hang": rank 1 exits without
// MPI_Finalize / is killed / sleeps instead of joining rank 0's all-reduce.
static int comm_worker(const char *mode) {
    char err[512];
    Comm *c = comm_init(&ops_cpu, 3.0, err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = 0;
    if (!strcmp(mode, "collectives")) {
        rc = worker_collectives(c);
    } else {
        if (comm_rank(c) == 1) {
            fflush(stdout);
            if (!strcmp(mode, "exit")) _exit(7);
            if (!strcmp(mode, "kill")) raise(SIGKILL);
            sleep(600);  // "hang": only rank 0's watchdog can end this
        }
        float x = 1.0f;
        comm_allreduce_mean(c, &x, 1);
        printf("rank %d: all-reduce returned without its peer\n", comm_rank(c));
        rc = 1;
    }
    comm_finalize(c);
    return rc;
}

// ---- running mpirun with a hard timeout -------------------------------------

static int have_mpirun(void) {
    return system("command -v mpirun >/dev/null 2>&1") == 0;
}

#define SKIP_WITHOUT_MPIRUN()                                                  \
    do {                                                                       \
        if (!have_mpirun()) {                                                  \
            printf("%s: skipped: mpirun not installed\n", __func__);           \
            return;                                                            \
        }                                                                      \
    } while (0)

typedef struct {
    int status;      // exit code, 128+signal, or -1 when killed for the timeout
    double seconds;  // wall time
    char out[16384]; // stdout+stderr (truncated)
} RunResult;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Run argv (NULL-terminated) in its own process group; kill the group after
// timeout_s. Output goes through a temp file so a chatty child cannot block.
static void run_with_timeout(char *const argv[], double timeout_s, RunResult *r) {
    char path[] = "/tmp/test_dist_out_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    double t0 = now_s();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    int wstatus = 0;
    r->status = -1;
    for (;;) {
        pid_t w = waitpid(pid, &wstatus, WNOHANG);
        if (w == pid) {
            r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
            break;
        }
        if (now_s() - t0 > timeout_s) {
            kill(-pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
            break;
        }
        usleep(20000);
    }
    r->seconds = now_s() - t0;
    ssize_t got = pread(fd, r->out, sizeof r->out - 1, 0);
    r->out[got > 0 ? got : 0] = '\0';
    close(fd);
    unlink(path);
}

static char self_path[4096];

// Adam moves a weight by about lr = 3e-3 per step whatever its gradient's size,
// so rounding in the averaged gradient shows most in weights whose gradient is
// nearly zero; 1e-4 is still 30x below one step.
#define WEIGHT_TOL 1e-4

// Append the NULL-terminated list `args` to argv at n; returns the new count.
static int append_args(char **argv, int n, char *const *args) {
    while (*args) argv[n++] = *args++;
    argv[n] = NULL;
    return n;
}

// Command line prefix that starts `ranks` copies of this binary: plain for one
// rank (no launcher, no MPI), else mpirun (--oversubscribe: 2 ranks may share
// 2 cores). Returns the argument count.
static int launch_prefix(char **argv, int ranks) {
    static char np[16];
    snprintf(np, sizeof np, "%d", ranks);
    char *mpirun[] = {"mpirun", "--oversubscribe", "-np", np, NULL};
    int n = ranks > 1 ? append_args(argv, 0, mpirun) : 0;
    argv[n++] = self_path;
    argv[n] = NULL;
    return n;
}

static void run_comm_worker(const char *mode, double timeout_s, RunResult *r) {
    char *argv[16];
    int n = launch_prefix(argv, 2);
    argv[n++] = "--comm-worker";
    argv[n++] = (char *)mode;
    argv[n] = NULL;
    run_with_timeout(argv, timeout_s, r);
    printf("-- mpirun %s: status %d after %.1f s\n%s", mode, r->status, r->seconds, r->out);
}

// ---- training runs ----------------------------------------------------------

// A short tiny run whose LR does not depend on --steps (no warmup, flat
// schedule), so a run resumed with more steps continues the same trajectory.
// --shared-stream: every rank count sees the same global batches.
typedef struct {
    const char *model;
    int batch, steps, resume;
} TrainRun;

static int train_argv(char **argv, int n, const TrainRun *t, const char *out) {
    static char batch[16], steps[16];  // static: argv points at them until the run
    snprintf(batch, sizeof batch, "%d", t->batch);
    snprintf(steps, sizeof steps, "%d", t->steps);
    char *args[] = {"train", "--model", (char *)t->model, "--device", "cpu", "--out",
                    (char *)out, "--batch", batch, "--steps", steps, "--seq-len", "16",
                    "--lr", "3e-3", "--warmup", "0", "--final-lr-frac", "1", "--shared-stream",
                    "--eval-every", "1000", "--eval-batches", "1", "--quiet",
                    t->resume ? "--resume" : NULL, NULL};
    return append_args(argv, n, args);
}

static void run_train(int ranks, const TrainRun *t, const char *out) {
    char *argv[48];
    train_argv(argv, launch_prefix(argv, ranks), t, out);
    RunResult r;
    run_with_timeout(argv, 60, &r);
    printf("-- %d rank(s) %s %d steps%s -> %s: status %d after %.1f s\n", ranks, t->model,
           t->steps, t->resume ? " (resume)" : "", out, r.status, r.seconds);
    ck_assert_msg(r.status == 0, "training run failed:\n%s", r.out);
}

static char tmp_root[] = "/tmp/test_dist_XXXXXX";

static const char *run_dir(const char *name) {
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", tmp_root, name);
    return p;
}

enum { MAX_STEPS = 64 };
typedef struct {
    double loss[MAX_STEPS], grad_norm[MAX_STEPS];  // metrics.csv columns 2 and 6
    int rows;
} Metrics;

static int collect_metrics(char **fields, int n, long line, void *user) {
    Metrics *m = user;
    if (line > 1 && n >= 6 && m->rows < MAX_STEPS) {
        m->loss[m->rows] = atof(fields[1]);
        m->grad_norm[m->rows++] = atof(fields[5]);
    }
    return 0;
}

static Metrics read_metrics(const char *dir) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    Metrics m = {.rows = 0};
    ck_assert_msg(csv_read(path, collect_metrics, &m, err, sizeof err) == 0, "%s", err);
    return m;
}

// Parameters of dir/ckpt.safetensors: (total) host floats, malloc'd.
static float *read_weights(const char *dir, size_t *n) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    ModelConfig cfg;
    ck_assert_msg(checkpoint_read_config(path, &cfg, err, sizeof err) == 0, "%s", err);
    Model m;
    ck_assert_msg(model_create(&m, &cfg, &ops_cpu, PREC_FP32, 1, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(checkpoint_load(path, &m, NULL, err, sizeof err) == 0, "%s", err);
    *n = m.table.total;
    float *w = mallocCheck(*n * sizeof(float));
    memcpy(w, m.params, *n * sizeof(float));
    model_free(&m);
    return w;
}

static void assert_close(double a, double b, double rel, const char *what, int step) {
    ck_assert_msg(fabs(a - b) <= rel * fabs(a), "step %d: %s %.8g vs %.8g", step, what, a, b);
}

// Same loss and gradient norm at every step (the gradient norm is taken after
// the all-reduce, so it checks the averaged gradient itself) and the same final
// weights, up to the rounding of the gradient average.
static void assert_same_training(const char *dir_a, const char *dir_b) {
    Metrics a = read_metrics(dir_a), b = read_metrics(dir_b);
    ck_assert_int_eq(a.rows, b.rows);
    ck_assert_int_gt(a.rows, 0);
    for (int i = 0; i < a.rows; i++) {
        assert_close(a.loss[i], b.loss[i], 1e-5, "loss", i + 1);
        assert_close(a.grad_norm[i], b.grad_norm[i], 1e-5, "grad_norm", i + 1);
    }
    size_t na, nb;
    float *wa = read_weights(dir_a, &na), *wb = read_weights(dir_b, &nb);
    ck_assert_uint_eq(na, nb);
    double worst = 0;
    for (size_t i = 0; i < na; i++) worst = fmax(worst, fabs((double)wa[i] - wb[i]));
    printf("-- %s vs %s: %d steps agree, max |weight diff| %.3g over %zu weights\n", dir_a,
           dir_b, a.rows, worst, na);
    fflush(stdout);
    ck_assert_msg(worst < WEIGHT_TOL, "max |weight diff| %g", worst);
    free(wa);
    free(wb);
}

// ---- tests ------------------------------------------------------------------

START_TEST(single_process_is_rank_0_of_1) {
    // No launcher variables: no MPI_Init, collectives leave data alone.
    static const char *const launcher_vars[] = {
        "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof launcher_vars / sizeof *launcher_vars; i++)
        unsetenv(launcher_vars[i]);
    char err[256] = "";
    Comm *c = comm_init(&ops_cpu, 1.0, err, sizeof err);
    ck_assert_msg(c != NULL, "comm_init: %s", err);
    ck_assert_int_eq(comm_rank(c), 0);
    ck_assert_int_eq(comm_size(c), 1);
    float buf[3] = {1.5f, -2.0f, 3.25f};
    comm_allreduce_mean(c, buf, 3);
    comm_broadcast(c, buf, 3, 0);
    ck_assert(buf[0] == 1.5f && buf[1] == -2.0f && buf[2] == 3.25f);
    ck_assert(comm_sum_scalar(c, 2.5) == 2.5);
    comm_barrier(c);
    comm_finalize(c);
}
END_TEST

START_TEST(collectives_across_two_ranks) {
    SKIP_WITHOUT_MPIRUN();
    RunResult r;
    run_comm_worker("collectives", 30, &r);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "rank 0/2 ok"));
    ck_assert_ptr_nonnull(strstr(r.out, "rank 1/2 ok"));
}
END_TEST

// A peer that dies or hangs ends the job with an error, well inside the harness
// timeout (the worker's comm timeout is 3 s).
static void check_job_ends(const char *mode, const char *expect_in_output) {
    RunResult r;
    run_comm_worker(mode, 30, &r);
    ck_assert_msg(r.status > 0, "mpirun %s: status %d (0 = success, -1 = hung)", mode, r.status);
    ck_assert_msg(r.seconds < 20, "mpirun %s took %.1f s", mode, r.seconds);
    ck_assert_ptr_null(strstr(r.out, "returned without its peer"));
    ck_assert_msg(strstr(r.out, expect_in_output), "no '%s' in the output", expect_in_output);
}

START_TEST(rank_that_exits_ends_the_job) {
    SKIP_WITHOUT_MPIRUN();
    check_job_ends("exit", "exited");
}
END_TEST

START_TEST(killed_rank_ends_the_job) {
    SKIP_WITHOUT_MPIRUN();
    check_job_ends("kill", "signal 9");
}
END_TEST

START_TEST(hung_rank_hits_the_watchdog) {
    SKIP_WITHOUT_MPIRUN();
    check_job_ends("hang", "allreduce_mean (1 values) has not finished after 3 s");
}
END_TEST

static const TrainRun DENSE = {.model = "transformer-tiny", .batch = 8, .steps = 3};

// The 1-rank dense run the others are compared with (made once, shared by tests).
static const char *dense_reference(void) {
    const char *dir = run_dir("dense-1rank");
    char ckpt[512];
    snprintf(ckpt, sizeof ckpt, "%s/ckpt.safetensors", dir);
    if (access(ckpt, F_OK) != 0) run_train(1, &DENSE, dir);
    return dir;
}

START_TEST(two_ranks_train_like_one_dense) {
    SKIP_WITHOUT_MPIRUN();
    const char *ref = dense_reference(), *dir = run_dir("dense-2ranks");
    run_train(2, &DENSE, dir);
    assert_same_training(ref, dir);
}
END_TEST

START_TEST(two_ranks_train_like_one_mot) {
    SKIP_WITHOUT_MPIRUN();
    // G = 8: each rank's micro-batch of 8 rows is exactly one group per position.
    const TrainRun mot = {.model = "mot-tiny/8e", .batch = 16, .steps = 3};
    const char *one = run_dir("mot-1rank"), *two = run_dir("mot-2ranks");
    run_train(1, &mot, one);
    run_train(2, &mot, two);
    assert_same_training(one, two);
}
END_TEST

// Train 2 of DENSE's 3 steps on `first` ranks, resume the last on `then` ranks.
static void check_resume_across_rank_counts(int first, int then, const char *name) {
    const char *ref = dense_reference(), *dir = run_dir(name);
    TrainRun start = DENSE, finish = DENSE;
    start.steps = 2;
    finish.resume = 1;
    run_train(first, &start, dir);
    run_train(then, &finish, dir);
    assert_same_training(ref, dir);
}

START_TEST(two_rank_checkpoint_resumes_on_one) {
    SKIP_WITHOUT_MPIRUN();
    check_resume_across_rank_counts(2, 1, "resume-2-then-1");
}
END_TEST

START_TEST(one_rank_checkpoint_resumes_on_two) {
    SKIP_WITHOUT_MPIRUN();
    check_resume_across_rank_counts(1, 2, "resume-1-then-2");
}
END_TEST

// A global batch that does not split into whole micro-batches, or micro-batches
// that would split a MoT group across ranks, stop both ranks with a message.
static void check_bad_split(const TrainRun *t, const char *expect_in_output) {
    char *argv[48];
    train_argv(argv, launch_prefix(argv, 2), t, run_dir("bad-split"));
    RunResult r;
    run_with_timeout(argv, 60, &r);
    printf("-- %s batch %d on 2 ranks: status %d\n%s", t->model, t->batch, r.status, r.out);
    fflush(stdout);
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(r.seconds < 30, "took %.1f s to fail", r.seconds);
    ck_assert_msg(strstr(r.out, expect_in_output), "no '%s' in the output", expect_in_output);
}

START_TEST(batch_must_split_into_whole_groups) {
    SKIP_WITHOUT_MPIRUN();
    const TrainRun odd = {.model = "transformer-tiny", .batch = 7, .steps = 1};
    check_bad_split(&odd, "--batch 7");
    // 16 rows / 2 ranks = 8 = G for mot-tiny/8e is fine; 8 rows / 2 ranks is not.
    const TrainRun mot = {.model = "mot-tiny/8e", .batch = 8, .steps = 1};
    check_bad_split(&mot, "G=8");
}
END_TEST

START_TEST(killed_rank_ends_a_training_run) {
    SKIP_WITHOUT_MPIRUN();
    // Rank 1 runs under `timeout -s KILL`: it is killed mid-training, wherever it is.
    const char *dir = run_dir("killed");
    TrainRun t = DENSE;
    t.steps = 100000;
    char *rank0[] = {"mpirun", "--oversubscribe", "-np", "1", self_path, NULL};
    char *rank1[] = {":", "-np", "1", "timeout", "--foreground", "-s", "KILL", "4", self_path,
                     NULL};
    char *argv[96];
    int n = train_argv(argv, append_args(argv, 0, rank0), &t, dir);
    train_argv(argv, append_args(argv, n, rank1), &t, dir);
    RunResult r;
    run_with_timeout(argv, 60, &r);
    printf("-- killed rank: status %d after %.1f s\n%s", r.status, r.seconds, r.out);
    ck_assert_msg(r.status > 0, "status %d (0 = success, -1 = hung)", r.status);
    ck_assert_msg(r.seconds < 30, "the job took %.1f s to end", r.seconds);
    ck_assert_ptr_nonnull(strstr(r.out, "137"));  // timeout's exit code for a SIGKILLed child
}
END_TEST

static Suite *dist_suite(void) {
    Suite *s = suite_create("dist");
    TCase *comm = tcase_create("comm");
    tcase_set_timeout(comm, 60);
    tcase_add_test(comm, single_process_is_rank_0_of_1);
    tcase_add_test(comm, collectives_across_two_ranks);
    tcase_add_test(comm, rank_that_exits_ends_the_job);
    tcase_add_test(comm, killed_rank_ends_the_job);
    tcase_add_test(comm, hung_rank_hits_the_watchdog);
    suite_add_tcase(s, comm);
    // Each run is a separate process with its own hard timeout; the first one may
    // tokenize the bundled sample into the token cache.
    TCase *train = tcase_create("train");
    tcase_set_timeout(train, 180);
    tcase_add_test(train, two_ranks_train_like_one_dense);
    tcase_add_test(train, two_ranks_train_like_one_mot);
    tcase_add_test(train, two_rank_checkpoint_resumes_on_one);
    tcase_add_test(train, one_rank_checkpoint_resumes_on_two);
    tcase_add_test(train, batch_must_split_into_whole_groups);
    tcase_add_test(train, killed_rank_ends_a_training_run);
    suite_add_tcase(s, train);
    return s;
}

int main(int argc, char **argv) {
    // Open MPI refuses to start as root (CI containers) without this opt-in.
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    // One thread per process: CPU kernels sum in thread-count-dependent order,
    // and mpirun's core binding would otherwise give ranks fewer threads than a
    // plain process, a difference Adam amplifies beyond the one under test.
    setenv("OMP_NUM_THREADS", "1", 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    if (argc == 3 && !strcmp(argv[1], "--comm-worker")) return comm_worker(argv[2]);
    if (argc > 1 && !strcmp(argv[1], "train")) return cmd_train(argc - 1, argv + 1);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0 || !mkdtemp(tmp_root)) {
        fprintf(stderr, "test_dist: cannot resolve /proc/self/exe or create %s\n", tmp_root);
        return 1;
    }
    self_path[n] = '\0';
    int rc = test_run_suite(dist_suite());
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "test_dist: could not remove %s\n", tmp_root);
    return rc;
}
