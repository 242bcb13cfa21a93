// Data-parallel collectives. One process per device; ranks come from the launcher
// (mpirun / srun). Without a launcher the job is rank 0 of 1 and every call is a
// no-op, so single-process code needs no special case. Buffers are device
// pointers of the Ops table given to comm_init: MPI on the CPU path, NCCL on CUDA.
#pragma once
#include <stddef.h>

#include "kernels/ops.h"

typedef struct Comm Comm;

// NULL with err set when the launcher environment is broken.
Comm *comm_init(const Ops *ops, double timeout_s, char *err, size_t errlen);
void comm_finalize(Comm *c);
int comm_rank(const Comm *c);
int comm_size(const Comm *c);
// buf (n) = mean over ranks of buf (in place).
void comm_allreduce_mean(Comm *c, float *buf, size_t n);
// buf (n) on every rank = buf on root.
void comm_broadcast(Comm *c, float *buf, size_t n, int root);
// Sum of a host scalar over ranks (losses, token counts).
double comm_sum_scalar(Comm *c, double x);
void comm_barrier(Comm *c);
