// Data parallelism (kernels/comm.h over MPI): collectives across 2 ranks, a dead or
// hung rank ending the job, and a 2-rank training run matching a 1-rank run.
//
// Multi-rank cases re-run this binary (or ./suite) under `mpirun -np 2` with a
// hard timeout, so a hang fails the test instead of stalling CI. This binary run
// as `test_dist --comm-worker MODE` is the per-rank program of the comm checks.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernels/comm.h"
#include "tests/testutil.h"

// Only the table's name matters to comm on the host path ("cpu": MPI on host buffers).
static const Ops host_ops = {.name = "cpu"};

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
    Comm *c = comm_init(&host_ops, 3.0, err, sizeof err);
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

// mpirun -np 2 <this binary> --comm-worker MODE. Running as root (CI containers)
// needs Open MPI's explicit opt-in; --oversubscribe lets 2 ranks share 2 cores.
static void run_comm_worker(const char *mode, double timeout_s, RunResult *r) {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    char *argv[] = {"mpirun", "--oversubscribe", "-np", "2", self_path,
                    "--comm-worker", (char *)mode, NULL};
    run_with_timeout(argv, timeout_s, r);
    printf("-- mpirun %s: status %d after %.1f s\n%s", mode, r->status, r->seconds, r->out);
}

// ---- tests ------------------------------------------------------------------

START_TEST(single_process_is_rank_0_of_1) {
    // No launcher variables: no MPI_Init, collectives leave data alone.
    static const char *const launcher_vars[] = {
        "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof launcher_vars / sizeof *launcher_vars; i++)
        unsetenv(launcher_vars[i]);
    char err[256] = "";
    Comm *c = comm_init(&host_ops, 1.0, err, sizeof err);
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
    return s;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--comm-worker")) return comm_worker(argv[2]);
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0) {
        fprintf(stderr, "test_dist: cannot resolve /proc/self/exe\n");
        return 1;
    }
    self_path[n] = '\0';
    return test_run_suite(dist_suite());
}
