// The CUDA op table and the backend context it runs in: one stream, one cuBLAS
// handle with its workspace, and grow-only scratch buffers. The context lives on
// this rank's GPU (GPU local_rank under mpirun/srun, kernels/comm_nccl.h), which
// is made current before anything is created on it.
#include <stdio.h>

#include "kernels/cuda/ops_cuda.h"

extern "C" {
#include "kernels/comm_launcher.h"
#include "kernels/comm_nccl.h"
}

// cuBLAS's recommended workspace for Hopper; also enough for Ampere.
enum { CUBLAS_WORKSPACE_BYTES = 32 << 20 };

// The op table's function pointers take no context argument, so the backend's
// state has to live here; it is created once and lives until the process exits.
static CudaContext context;
static int context_ready;

CudaContext *cuda_context(void) {
    if (!context_ready) die("CUDA op called before ops_cuda() created the backend");
    return &context;
}

void *cuda_scratch(ScratchSlot slot, size_t bytes) {
    CudaContext *ctx = cuda_context();
    if (bytes <= ctx->scratch_bytes[slot]) return ctx->scratch[slot];
    cudaCheck(cudaStreamSynchronize(ctx->stream));
    cudaCheck(cudaFree(ctx->scratch[slot]));
    ctx->scratch[slot] = NULL;
    cudaError_t status = cudaMalloc(&ctx->scratch[slot], bytes);
    if (status != cudaSuccess)
        die("out of GPU memory growing scratch buffer %d to %zu bytes (%s); use a smaller "
            "micro-batch",
            (int)slot, bytes, cudaGetErrorString(status));
    ctx->scratch_bytes[slot] = bytes;
    return ctx->scratch[slot];
}

static void context_create(CudaContext *ctx) {
    int device;
    cudaCheck(cudaGetDevice(&device));
    cudaDeviceProp prop;
    cudaCheck(cudaGetDeviceProperties(&prop, device));
    snprintf(ctx->device_name, sizeof ctx->device_name, "%s", prop.name);

    // A blocking stream: it still orders with the legacy default stream, so code
    // outside the backend that uses stream 0 (NCCL, plain cudaMemcpy) stays safe.
    cudaCheck(cudaStreamCreate(&ctx->stream));
    cublasCheck(cublasCreate(&ctx->cublas));
    // cublasSetStream resets the workspace, so the stream is set first.
    cublasCheck(cublasSetStream(ctx->cublas, ctx->stream));
    cudaCheck(cudaMalloc(&ctx->cublas_workspace, CUBLAS_WORKSPACE_BYTES));
    cublasCheck(cublasSetWorkspace(ctx->cublas, ctx->cublas_workspace, CUBLAS_WORKSPACE_BYTES));
    // Default math: fp32 GEMMs stay true fp32 (no TF32); the bf16 path asks for
    // bf16 tensor cores per call through its compute type (gemm.cu).
    cublasCheck(cublasSetMathMode(ctx->cublas, CUBLAS_DEFAULT_MATH));
}

// Built from the slot list of kernels/ops.h: a slot without its cuda_<slot>
// function fails to compile, and C++ rejects designators out of declaration order.
#define CUDA_SLOT(slot) .slot = cuda_##slot,
static const Ops cuda_ops_table = {
    .name = "cuda",
    OPS_FUNCTION_SLOTS(CUDA_SLOT)
    .routing = &routing_ops_cuda,
};

extern "C" const Ops *ops_cuda(const char **why) {
    static char reason[512];
    if (context_ready) return &cuda_ops_table;
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess || count == 0) {
        if (status != cudaSuccess)
            snprintf(reason, sizeof reason, "no usable CUDA device: cudaGetDeviceCount says %s",
                     cudaGetErrorString(status));
        else
            snprintf(reason, sizeof reason, "no CUDA device found (cudaGetDeviceCount = 0)");
        if (why) *why = reason;
        return NULL;
    }
    if (!nccl_select_device(launcher_env().local_rank, reason, sizeof reason)) {
        if (why) *why = reason;
        return NULL;
    }
    context_create(&context);
    context_ready = 1;
    return &cuda_ops_table;
}
