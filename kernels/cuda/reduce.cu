// Whole-vector reductions returned to the host, accumulated in double like the
// CPU. A fixed number of blocks each write one partial sum; the host adds the
// partials in order, so the result does not depend on scheduling.
#include "kernels/cuda/ops_cuda.h"

static const unsigned int REDUCE_BLOCKS = 1024;

struct Square {
    __device__ double operator()(float x) const { return (double)x * x; }
};
struct Identity {
    __device__ double operator()(float x) const { return x; }
};

template <typename Term>
__global__ void partial_sums_kernel(double *partials, const float *x, size_t n, Term term) {
    double s = 0.0;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        s += term(x[i]);
    s = block_reduce(s, SumOp(), 0.0);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

template <typename Term>
static double reduce_to_host(const float *x, size_t n, Term term) {
    if (n == 0) return 0.0;
    unsigned int blocks = grid_for(n);
    if (blocks > REDUCE_BLOCKS) blocks = REDUCE_BLOCKS;
    double *partials = (double *)cuda_scratch(SCRATCH_REDUCE, REDUCE_BLOCKS * sizeof(double));
    partial_sums_kernel<<<blocks, BLOCK_SIZE, 0, cuda_stream()>>>(partials, x, n, term);
    cudaLaunchCheck();
    double host[REDUCE_BLOCKS];
    cuda_to_host(host, partials, blocks * sizeof(double));
    double total = 0.0;
    for (unsigned int b = 0; b < blocks; b++) total += host[b];
    return total;
}

double cuda_sumsq(const float *x, size_t n) { return reduce_to_host(x, n, Square()); }

double cuda_sum(const float *x, size_t n) { return reduce_to_host(x, n, Identity()); }
