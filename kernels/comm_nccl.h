// NCCL collectives on CUDA device buffers, for kernels/comm_mpi.c. This header is
// free of MPI and CUDA types: comm_mpi.c exchanges the unique id over MPI and
// calls in here; kernels/cuda/comm_nccl.cu is the only file that sees nccl.h.
// Without CUDA, kernels/comm_nccl_none.c stands in for the calls comm_mpi.c makes.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct NcclComm NcclComm;

enum { NCCL_ID_BYTES = 128 };  // sizeof(ncclUniqueId), checked in comm_nccl.cu

// Make this rank's GPU current: GPU local_rank, or GPU 0 when the launcher shows
// each rank a single GPU. 0 with err naming the GPU count when there are too few.
// The CUDA op table must be created on that GPU, so ops_cuda() calls this (with
// launcher_env().local_rank) before it creates any handle or stream.
int nccl_select_device(int local_rank, char *err, size_t errlen);
// 1 when the current GPU is the one nccl_select_device picks, else 0 with err.
int nccl_check_device(int local_rank, char *err, size_t errlen);
// Rank 0 makes the id (NCCL_ID_BYTES) that every rank then passes to nccl_comm_create.
int nccl_make_id(void *id, char *err, size_t errlen);
NcclComm *nccl_comm_create(const void *id, int rank, int size, double timeout_s, char *err,
                           size_t errlen);
void nccl_comm_destroy(NcclComm *c);
// Collectives on fp32 device buffers. Each waits for the result, polling NCCL's
// async error state; a peer failure or timeout_s without progress aborts the
// communicator and exits with a message naming the collective.
void nccl_allreduce_mean(NcclComm *c, float *buf, size_t n);
void nccl_broadcast(NcclComm *c, float *buf, size_t n, int root);

#ifdef __cplusplus
}
#endif
