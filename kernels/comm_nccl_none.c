// The NCCL calls kernels/comm_mpi.c makes outside its CUDA-only setup, for builds
// without CUDA (no nvcc), so comm_mpi.c links unchanged. comm_init never creates an
// NcclComm in such a build (start_nccl refuses: there is no CUDA table), so c->nccl
// stays NULL and reaching a collective here is a programming error, reported as such.
#ifndef MOT_HAVE_CUDA
#include "kernels/comm_nccl.h"

#include "kernels/common.h"

#define NO_CUDA "this suite was built without CUDA (nvcc was not found at build time)"

void nccl_comm_destroy(NcclComm *c) {
    if (c) die("nccl_comm_destroy: " NO_CUDA ", so no NCCL communicator can exist");
}

void nccl_allreduce_mean(NcclComm *c, float *buf, size_t n) {
    (void)c;
    (void)buf;
    die("nccl_allreduce_mean of %zu values: " NO_CUDA, n);
}

void nccl_broadcast(NcclComm *c, float *buf, size_t n, int root) {
    (void)c;
    (void)buf;
    die("nccl_broadcast of %zu values from rank %d: " NO_CUDA, n, root);
}
#else
typedef int comm_nccl_none_c_is_empty_with_cuda;  // ISO C forbids an empty translation unit
#endif
