// NCCL collectives for kernels/comm_mpi.c (interface: kernels/comm_nccl.h).
//
// Model buffers are fp32 in every precision mode; in "bf16" mode they hold
// bf16-rounded values, so an fp32 all-reduce of them loses nothing a bf16 one
// would keep. Collectives run on their own stream after a device synchronise
// (the op table's streams are not visible here), and the host waits for them
// while polling NCCL's async error: a dead peer or timeout_s without completion
// aborts the communicator and ends the process, which makes mpirun end the job.
#include <cuda_runtime.h>
#include <nccl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/base/clock.h"
#include "kernels/comm_nccl.h"

static_assert(sizeof(ncclUniqueId) == NCCL_ID_BYTES, "NCCL_ID_BYTES must match ncclUniqueId");

struct NcclComm {
    ncclComm_t comm;
    cudaStream_t stream;
    int rank;
    double timeout_s;
};

[[noreturn]] static void nccl_fail(NcclComm *c, const char *what, const char *why) {
    fprintf(stderr, "comm: rank %d: NCCL %s failed: %s. Aborting the job.\n", c->rank, what,
            why);
    fflush(stderr);
    ncclCommAbort(c->comm);
    exit(1);
}

// Wait for the collective on c->stream, failing on a peer error or the timeout.
static void wait_collective(NcclComm *c, const char *what, ncclResult_t launched) {
    if (launched != ncclSuccess) nccl_fail(c, what, ncclGetErrorString(launched));
    double t0 = monotonic_seconds();
    for (;;) {
        cudaError_t q = cudaStreamQuery(c->stream);
        if (q == cudaSuccess) return;
        if (q != cudaErrorNotReady) nccl_fail(c, what, cudaGetErrorString(q));
        ncclResult_t async;
        ncclCommGetAsyncError(c->comm, &async);
        if (async != ncclSuccess && async != ncclInProgress)
            nccl_fail(c, what, ncclGetErrorString(async));
        if (c->timeout_s > 0 && monotonic_seconds() - t0 > c->timeout_s) {
            char why[128];
            snprintf(why, sizeof why,
                     "not finished after %.0f s (another rank died or hangs)", c->timeout_s);
            nccl_fail(c, what, why);
        }
        sched_yield();
    }
}

// The GPU of this node's local_rank: GPU local_rank, or GPU 0 when the launcher
// shows each rank a single GPU (srun --gpus-per-task, CUDA_VISIBLE_DEVICES per rank).
static int rank_device(int local_rank, int *device, char *err, size_t errlen) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        snprintf(err, errlen, "comm: cannot count GPUs: %s", cudaGetErrorString(e));
        return 0;
    }
    *device = count == 1 ? 0 : local_rank;
    if (*device >= count) {
        snprintf(err, errlen,
                 "comm: local rank %d needs GPU %d but this node shows %d GPUs: launch at most "
                 "%d ranks per node (mpirun --npernode %d / srun --ntasks-per-node=%d)",
                 local_rank, *device, count, count, count, count);
        return 0;
    }
    return 1;
}

extern "C" int nccl_select_device(int local_rank, char *err, size_t errlen) {
    int device;
    if (!rank_device(local_rank, &device, err, errlen)) return 0;
    cudaError_t e = cudaSetDevice(device);
    if (e != cudaSuccess) {
        snprintf(err, errlen, "comm: cudaSetDevice(%d): %s", device, cudaGetErrorString(e));
        return 0;
    }
    return 1;
}

extern "C" int nccl_check_device(int local_rank, char *err, size_t errlen) {
    int want, current = -1;
    if (!rank_device(local_rank, &want, err, errlen)) return 0;
    cudaGetDevice(&current);
    if (current != want) {
        snprintf(err, errlen,
                 "comm: local rank %d should run on GPU %d but the CUDA table was created on "
                 "GPU %d (ops_cuda() must call nccl_select_device before creating its context)",
                 local_rank, want, current);
        return 0;
    }
    return 1;
}

extern "C" int nccl_make_id(void *id, char *err, size_t errlen) {
    ncclResult_t r = ncclGetUniqueId((ncclUniqueId *)id);
    if (r != ncclSuccess) {
        snprintf(err, errlen, "comm: ncclGetUniqueId: %s", ncclGetErrorString(r));
        return 0;
    }
    return 1;
}

extern "C" NcclComm *nccl_comm_create(const void *id, int rank, int size, double timeout_s,
                                      char *err, size_t errlen) {
    NcclComm *c = (NcclComm *)calloc(1, sizeof(NcclComm));
    if (!c) {
        snprintf(err, errlen, "comm: out of memory");
        return NULL;
    }
    c->rank = rank;
    c->timeout_s = timeout_s;
    ncclUniqueId uid;
    memcpy(&uid, id, sizeof uid);
    ncclResult_t r = ncclCommInitRank(&c->comm, size, uid, rank);
    if (r != ncclSuccess) {
        snprintf(err, errlen, "comm: rank %d: ncclCommInitRank(%d ranks): %s", rank, size,
                 ncclGetErrorString(r));
        free(c);
        return NULL;
    }
    cudaError_t e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        snprintf(err, errlen, "comm: rank %d: cudaStreamCreate: %s", rank, cudaGetErrorString(e));
        ncclCommDestroy(c->comm);
        free(c);
        return NULL;
    }
    return c;
}

extern "C" void nccl_comm_destroy(NcclComm *c) {
    if (!c) return;
    cudaStreamDestroy(c->stream);
    ncclCommDestroy(c->comm);
    free(c);
}

// The buffers come from the op table's stream: wait for it. A failed kernel
// before the collective shows here (sticky error), named, instead of NCCL
// reducing garbage.
static void wait_for_device(NcclComm *c, const char *what) {
    cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) nccl_fail(c, what, cudaGetErrorString(e));
}

extern "C" void nccl_allreduce_mean(NcclComm *c, float *buf, size_t n) {
    wait_for_device(c, "allreduce_mean");
    wait_collective(c, "allreduce_mean",
                    ncclAllReduce(buf, buf, n, ncclFloat32, ncclAvg, c->comm, c->stream));
}

extern "C" void nccl_broadcast(NcclComm *c, float *buf, size_t n, int root) {
    wait_for_device(c, "broadcast");
    wait_collective(c, "broadcast",
                    ncclBroadcast(buf, buf, n, ncclFloat32, root, c->comm, c->stream));
}
