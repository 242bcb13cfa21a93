// Shared by every CUDA file of the backend: checked CUDA/cuBLAS calls that name
// file and line, the backend context (one stream, one cuBLAS handle, scratch),
// an element-wise launcher and warp/block reductions.
//
// Error model: every runtime and cuBLAS call is wrapped in cudaCheck/cublasCheck,
// and every kernel launch is followed by cudaLaunchCheck(), which catches bad
// launch configurations at once. Faults inside a kernel are asynchronous: they
// surface at the next checked call that synchronises (to_host, sumsq, ...), still
// with that call's file and line.
#pragma once
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stddef.h>

// The project's C headers have no extern "C" guards of their own.
extern "C" {
#include "kernels/common.h"
#include "kernels/ops.h"
#include "kernels/routing.h"
}

#define cudaCheck(call) cuda_check_at((call), #call, __FILE__, __LINE__)
#define cublasCheck(call) cublas_check_at((call), #call, __FILE__, __LINE__)
#define cudaLaunchCheck() cudaCheck(cudaGetLastError())

static inline void cuda_check_at(cudaError_t status, const char *call, const char *file,
                                 int line) {
    if (status != cudaSuccess)
        die_at(file, line, "CUDA error %s (%s) in %s", cudaGetErrorName(status),
               cudaGetErrorString(status), call);
}

static inline void cublas_check_at(cublasStatus_t status, const char *call, const char *file,
                                   int line) {
    if (status != CUBLAS_STATUS_SUCCESS)
        die_at(file, line, "cuBLAS error %s in %s", cublasGetStatusString(status), call);
}

// ---- backend context (kernels/cuda/ops_cuda.cu) ----------------------------

// Grow-only device buffers, one per user so that two users never alias.
typedef enum {
    SCRATCH_ATTENTION,  // permuted q/k/v and their gradients
    SCRATCH_ROUTING,    // per-token expert choice of Token Choice routing
    SCRATCH_REDUCE,     // per-block partial sums of sumsq/sum
    SCRATCH_GEMM_A,     // bf16 copies of the operands of a bf16 GEMM
    SCRATCH_GEMM_B,
    SCRATCH_COUNT
} ScratchSlot;

typedef struct {
    cudaStream_t stream;        // every kernel, copy and cuBLAS call runs here
    cublasHandle_t cublas;
    void *cublas_workspace;
    void *scratch[SCRATCH_COUNT];
    size_t scratch_bytes[SCRATCH_COUNT];
    char device_name[256];
} CudaContext;

// The context, created by the first successful ops_cuda() call.
CudaContext *cuda_context(void);
// A device buffer of at least `bytes` for `slot`; contents are undefined. Growing
// waits for the stream first, so kernels still reading the old buffer finish.
void *cuda_scratch(ScratchSlot slot, size_t bytes);

static inline cudaStream_t cuda_stream(void) { return cuda_context()->stream; }

// ---- launching -------------------------------------------------------------

enum { BLOCK_SIZE = 256, WARP_SIZE = 32 };

static inline unsigned int ceil_div(size_t n, size_t d) { return (unsigned int)((n + d - 1) / d); }

// Blocks for a grid-stride loop over n items; the cap keeps the grid legal for
// any n (the loop covers the rest).
static inline unsigned int grid_for(size_t n) {
    size_t blocks = (n + BLOCK_SIZE - 1) / BLOCK_SIZE;
    const size_t max_blocks = 1u << 20;
    return (unsigned int)(blocks < max_blocks ? (blocks ? blocks : 1) : max_blocks);
}

// Kernels that give each row of a matrix to one warp run WARPS_PER_BLOCK rows
// per block of BLOCK_SIZE threads.
enum { WARPS_PER_BLOCK = BLOCK_SIZE / WARP_SIZE };
static inline unsigned int warp_row_blocks(size_t rows) { return ceil_div(rows, WARPS_PER_BLOCK); }
__device__ inline size_t warp_row_index() {
    return (size_t)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / WARP_SIZE;
}
__device__ inline int lane_index() { return threadIdx.x % WARP_SIZE; }

// op(i) for every i in [0, n). Op is a small struct with a __device__ operator();
// it is copied to the kernel by value, so it holds pointers and scalars only.
template <typename Op>
__global__ void elementwise_kernel(size_t n, Op op) {
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) op(i);
}

template <typename Op>
static void launch_elementwise(size_t n, Op op) {
    if (n == 0) return;
    elementwise_kernel<<<grid_for(n), BLOCK_SIZE, 0, cuda_stream()>>>(n, op);
    cudaLaunchCheck();
}

// ---- reductions ------------------------------------------------------------

struct SumOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
    template <typename T>
    __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

// Combine v over the 32 lanes of a full warp; every lane gets the result.
template <typename T, typename Combine>
__device__ inline T warp_reduce(T v, Combine combine) {
    for (int offset = WARP_SIZE / 2; offset > 0; offset /= 2)
        v = combine(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Combine v over the whole block; every thread gets the result. All threads of
// the block must call it, blockDim.x a multiple of 32 and at most 1024.
template <typename T, typename Combine>
__device__ inline T block_reduce(T v, Combine combine, T identity) {
    __shared__ T per_warp[WARP_SIZE];
    int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    int n_warps = blockDim.x / WARP_SIZE;
    v = warp_reduce(v, combine);
    if (lane == 0) per_warp[warp] = v;
    __syncthreads();
    v = lane < n_warps ? per_warp[lane] : identity;
    v = warp_reduce(v, combine);
    __syncthreads();  // per_warp may be reused by the caller's next reduction
    return v;
}

// fp32 -> nearest bf16 (round to nearest even) -> fp32, as round_bf16() in
// kernels/common.h does on the host.
__device__ inline float round_to_bf16(float x) { return __bfloat162float(__float2bfloat16_rn(x)); }
