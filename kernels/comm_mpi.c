// kernels/comm.h over MPI (host buffers of the CPU table) and NCCL (device buffers
// of the CUDA table, kernels/cuda/comm_nccl.cu). MPI is initialised only when a
// launcher started the process; a plain `build/suite train` is rank 0 of 1 and every
// collective returns at once.
//
// MPI has no timeouts, so a rank that hangs (or whose peer hangs) would block its
// collective forever. A watchdog thread times every collective and aborts the
// whole job with a message naming the collective once timeout_s has passed.
#include "kernels/comm.h"

#include <mpi.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "kernels/base/clock.h"
#include "kernels/comm_launcher.h"
#include "kernels/comm_nccl.h"
#include "kernels/common.h"

// ---- launcher environment ---------------------------------------------------

// Non-negative integer value of the first of `names` that is set, else -1.
static int env_int(const char *const *names, const char **found) {
    for (; *names; names++) {
        const char *s = getenv(*names);
        if (!s || !*s) continue;
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || v < 0 || v > INT32_MAX) continue;
        if (found) *found = *names;
        return (int)v;
    }
    return -1;
}

LauncherEnv launcher_env(void) {
    // Open MPI's mpirun, then PMI (MPICH/Hydra, srun --mpi=pmi2), then srun itself.
    // SLURM_STEP_NUM_TASKS is set by srun but not in the sbatch script, so a
    // batch script that runs build/suite without srun stays a single process.
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                            "SLURM_STEP_NUM_TASKS", NULL};
    static const char *const rank_vars[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK",
                                            "SLURM_PROCID", NULL};
    static const char *const local_vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                                             "SLURM_LOCALID", NULL};
    LauncherEnv e = {.launched = 0, .size = 1, .rank = 0, .local_rank = 0, .source = NULL};
    int size = env_int(size_vars, &e.source);
    if (size < 0 && getenv("PMIX_RANK")) e.source = "PMIX_RANK";  // PMIx gives no size
    if (!e.source) return e;
    e.launched = 1;
    e.size = size;  // -1: ask MPI
    int rank = env_int(rank_vars, NULL), local = env_int(local_vars, NULL);
    e.rank = rank < 0 ? 0 : rank;
    e.local_rank = local < 0 ? 0 : local;
    return e;
}

// ---- watchdog ---------------------------------------------------------------

typedef struct {
    pthread_t thread;
    double timeout_s;
    int rank;
    int can_abort;                // MPI_THREAD_MULTIPLE: MPI_Abort is legal off the main thread
    atomic_int stop;
    atomic_llong started_ns;      // 0: no collective in flight
    _Atomic(const char *) what;   // name of the collective in flight
    atomic_size_t count;          // its element count
} Watchdog;

static void *watchdog_main(void *arg) {
    Watchdog *w = arg;
    const struct timespec poll = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
    while (!atomic_load(&w->stop)) {
        nanosleep(&poll, NULL);
        long long t0 = atomic_load(&w->started_ns);
        if (!t0 || (monotonic_ns() - t0) * 1e-9 < w->timeout_s) continue;
        fprintf(stderr,
                "comm: rank %d: %s (%zu values) has not finished after %.0f s: another rank "
                "died or hangs. Aborting the job (raise the communication timeout if steps "
                "are legitimately this slow).\n",
                w->rank, atomic_load(&w->what), atomic_load(&w->count), w->timeout_s);
        fflush(stderr);
        if (w->can_abort) MPI_Abort(MPI_COMM_WORLD, 1);
        _exit(1);  // mpirun ends the job when a rank exits without MPI_Finalize
    }
    return NULL;
}

static void watchdog_arm(Watchdog *w, const char *what, size_t n) {
    if (!w) return;
    atomic_store(&w->what, what);
    atomic_store(&w->count, n);
    atomic_store(&w->started_ns, monotonic_ns());
}

static void watchdog_disarm(Watchdog *w) {
    if (w) atomic_store(&w->started_ns, 0);
}

// ---- Comm -------------------------------------------------------------------

struct Comm {
    int rank, size;
    int mpi_owned;       // we called MPI_Init, so we call MPI_Finalize
    Watchdog *watchdog;  // NULL for a single rank or timeout_s <= 0
    NcclComm *nccl;      // CUDA table with more than one rank
};

// MPI counts are int: large buffers go in chunks.
enum { MPI_CHUNK = 1 << 30 };

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
                                                      const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return 0;
}

// MPI_Init under a launcher; *thread_level gets the thread support MPI granted.
static int start_mpi(Comm *c, LauncherEnv env, int *thread_level, char *err, size_t errlen) {
    int initialized;
    MPI_Initialized(&initialized);
    if (!initialized) {
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, thread_level) != MPI_SUCCESS)
            return fail(err, errlen, "comm: MPI_Init failed under %s", env.source);
        c->mpi_owned = 1;
    } else {
        MPI_Query_thread(thread_level);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    if (env.size > 0 && env.size != c->size)
        return fail(err, errlen,
                    "comm: %s announced %d ranks but MPI sees %d: this MPI library does not "
                    "speak the launcher's protocol (with Slurm use srun --mpi=pmix, see "
                    "docs/multi-gpu.md)",
                    env.source, env.size, c->size);
    return 1;
}

static int start_watchdog(Comm *c, double timeout_s, int thread_level, char *err,
                          size_t errlen) {
    if (c->size == 1 || timeout_s <= 0) return 1;
    Watchdog *w = callocCheck(1, sizeof(Watchdog));
    w->timeout_s = timeout_s;
    w->rank = c->rank;
    w->can_abort = thread_level == MPI_THREAD_MULTIPLE;
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        free(w);
        return fail(err, errlen, "comm: rank %d: cannot start the watchdog thread", c->rank);
    }
    c->watchdog = w;
    return 1;
}

static int start_nccl(Comm *c, LauncherEnv env, double timeout_s, char *err, size_t errlen) {
#ifdef MOT_HAVE_CUDA
    unsigned char id[NCCL_ID_BYTES] = {0};
    int ok = nccl_check_device(env.local_rank, err, errlen) &&
             (c->rank != 0 || nccl_make_id(id, err, errlen));
    // All ranks agree on failure before anyone waits for an id that will not come.
    int all_ok;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        if (ok) fail(err, errlen, "comm: rank %d: another rank could not set up NCCL", c->rank);
        return 0;
    }
    watchdog_arm(c->watchdog, "NCCL communicator setup", (size_t)c->size);
    MPI_Bcast(id, NCCL_ID_BYTES, MPI_BYTE, 0, MPI_COMM_WORLD);
    c->nccl = nccl_comm_create(id, c->rank, c->size, timeout_s, err, errlen);
    watchdog_disarm(c->watchdog);
    return c->nccl != NULL;
#else
    (void)env;
    (void)timeout_s;
    return fail(err, errlen, "comm: rank %d: the CUDA table needs NCCL, but this build has no CUDA",
                c->rank);
#endif
}

Comm *comm_init(const Ops *ops, double timeout_s, char *err, size_t errlen) {
    Comm *c = callocCheck(1, sizeof(Comm));
    c->size = 1;
    LauncherEnv env = launcher_env();
    if (!env.launched) return c;
    int thread_level = MPI_THREAD_SINGLE;
    int ok = start_mpi(c, env, &thread_level, err, errlen) &&
             start_watchdog(c, timeout_s, thread_level, err, errlen);
    if (ok && c->size > 1 && !strcmp(ops->name, "cuda"))
        ok = start_nccl(c, env, timeout_s, err, errlen);
    if (!ok) {
        comm_finalize(c);
        return NULL;
    }
    return c;
}

void comm_finalize(Comm *c) {
    if (!c) return;
    if (c->nccl) nccl_comm_destroy(c->nccl);
    if (c->mpi_owned) {
        // MPI_Finalize waits for every rank: a peer that died makes it hang too.
        watchdog_arm(c->watchdog, "MPI_Finalize", 0);
        MPI_Finalize();
    }
    if (c->watchdog) {
        atomic_store(&c->watchdog->stop, 1);
        pthread_join(c->watchdog->thread, NULL);
        free(c->watchdog);
    }
    free(c);
}

int comm_rank(const Comm *c) { return c->rank; }
int comm_size(const Comm *c) { return c->size; }

void comm_allreduce_mean(Comm *c, float *buf, size_t n) {
    if (c->size == 1) return;
    if (c->nccl) {
        nccl_allreduce_mean(c->nccl, buf, n);
        return;
    }
    watchdog_arm(c->watchdog, "allreduce_mean", n);
    for (size_t i = 0; i < n; i += MPI_CHUNK) {
        int count = (int)(n - i < MPI_CHUNK ? n - i : MPI_CHUNK);
        MPI_Allreduce(MPI_IN_PLACE, buf + i, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
    watchdog_disarm(c->watchdog);
    const float inv_size = 1.0f / (float)c->size;
    for (size_t i = 0; i < n; i++) buf[i] *= inv_size;
}

void comm_broadcast(Comm *c, float *buf, size_t n, int root) {
    if (c->size == 1) return;
    if (c->nccl) {
        nccl_broadcast(c->nccl, buf, n, root);
        return;
    }
    watchdog_arm(c->watchdog, "broadcast", n);
    for (size_t i = 0; i < n; i += MPI_CHUNK) {
        int count = (int)(n - i < MPI_CHUNK ? n - i : MPI_CHUNK);
        MPI_Bcast(buf + i, count, MPI_FLOAT, root, MPI_COMM_WORLD);
    }
    watchdog_disarm(c->watchdog);
}

double comm_sum_scalar(Comm *c, double x) {
    if (c->size == 1) return x;
    double sum;
    watchdog_arm(c->watchdog, "sum_scalar", 1);
    MPI_Allreduce(&x, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    watchdog_disarm(c->watchdog);
    return sum;
}

void comm_barrier(Comm *c) {
    if (c->size == 1) return;
    watchdog_arm(c->watchdog, "barrier", 0);
    MPI_Barrier(MPI_COMM_WORLD);
    watchdog_disarm(c->watchdog);
}
