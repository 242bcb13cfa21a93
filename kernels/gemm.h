// The CPU table's GEMM (OpenBLAS) and helpers for kernels that call OpenBLAS from
// inside their own OpenMP loops (attention).
#pragma once
#include "kernels/ops.h"

// ops_cpu.gemm: the strided-batched product documented in kernels/ops.h.
void gemm_cpu(const GemmArgs *g);

// OpenBLAS (pthread build) threads every large product by itself; a kernel that
// runs independent products on OpenMP threads must make each one single-threaded
// or the two thread pools oversubscribe the cores. Bracket such a loop with
//   int saved = blas_threads_serial_begin(); ...loop... blas_threads_serial_end(saved);
// Not re-entrant: call from the host thread only, never inside a parallel region.
int blas_threads_serial_begin(void);
void blas_threads_serial_end(int saved);

// Copy n floats rounded to bf16 into a new buffer (caller frees): the bf16 operand
// of a product, leaving the fp32 original intact.
float *bf16_rounded_copy(const float *x, size_t n);

// Machine sgemm rate: runs an (M,K)·(K,N) fp32 product repeatedly for about
// `seconds` and returns GFLOP/s (2·M·N·K flops per product). For `suite bench`.
double gemm_measure_gflops(int M, int N, int K, double seconds);
