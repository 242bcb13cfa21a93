// Device memory for the CUDA table: every copy and memset is queued on the
// backend stream, so it is ordered with the kernels around it.
#include "kernels/cuda/ops_cuda.h"

void *cuda_alloc(size_t bytes) {
    void *p = NULL;
    cudaError_t status = cudaMalloc(&p, bytes ? bytes : 1);
    if (status != cudaSuccess) {
        size_t free_bytes = 0, total_bytes = 0;
        cudaCheck(cudaMemGetInfo(&free_bytes, &total_bytes));
        die("out of GPU memory allocating %zu bytes (%zu of %zu bytes free: %s); use a smaller "
            "model or micro-batch",
            bytes, free_bytes, total_bytes, cudaGetErrorString(status));
    }
    cudaCheck(cudaMemsetAsync(p, 0, bytes, cuda_stream()));
    return p;
}

void cuda_free(void *p) {
    if (!p) return;
    // Kernels still queued may read p; let them finish before it is released.
    cudaCheck(cudaStreamSynchronize(cuda_stream()));
    cudaCheck(cudaFree(p));
}

// Callers free or refill host_src as soon as this returns (model_create, batch
// uploads). The CUDA documentation only says the driver "may" stage pageable
// memory before returning, so the copy is waited for. Uploads happen once per
// step, right after the step's sumsq has synchronised anyway, so this costs
// nothing measurable.
void cuda_to_device(void *dst, const void *host_src, size_t bytes) {
    cudaCheck(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, cuda_stream()));
    cudaCheck(cudaStreamSynchronize(cuda_stream()));
}

void cuda_to_host(void *host_dst, const void *src, size_t bytes) {
    cudaCheck(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, cuda_stream()));
    cudaCheck(cudaStreamSynchronize(cuda_stream()));
}

void cuda_copy(void *dst, const void *src, size_t bytes) {
    cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, cuda_stream()));
}

void cuda_zero(void *p, size_t bytes) { cudaCheck(cudaMemsetAsync(p, 0, bytes, cuda_stream())); }

void cuda_synchronize(void) { cudaCheck(cudaStreamSynchronize(cuda_stream())); }

size_t cuda_memory_available(void) {
    size_t free_bytes = 0, total_bytes = 0;
    cudaCheck(cudaMemGetInfo(&free_bytes, &total_bytes));
    return free_bytes;
}

const char *cuda_device_name(void) { return cuda_context()->device_name; }
