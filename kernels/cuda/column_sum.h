// acc (C) += sum over rows n of value(n, c) for a (N,C) field of values: the
// column reduction behind bias_backward and the LayerNorm weight/bias gradients.
//
// Each block owns 32 adjacent columns (threadIdx.x, so reads are coalesced) and
// a chunk of rows, strided over threadIdx.y. The 8 partial sums of a column
// meet in shared memory and the block adds its total to acc[c] with one
// atomicAdd, so the chunks of a column may land in any order.
#pragma once
#include "kernels/cuda/cuda_common.h"

enum { COLSUM_COLS = 32, COLSUM_ROW_THREADS = 8, COLSUM_MIN_ROWS_PER_BLOCK = 256 };

template <typename Value>
__global__ void column_sum_kernel(float *acc, int N, int C, int rows_per_block, Value value) {
    __shared__ float partial[COLSUM_ROW_THREADS][COLSUM_COLS];
    int c = blockIdx.x * COLSUM_COLS + threadIdx.x;
    int row_begin = blockIdx.y * rows_per_block;
    int row_end = min(row_begin + rows_per_block, N);
    float s = 0.0f;
    if (c < C)
        for (int n = row_begin + threadIdx.y; n < row_end; n += COLSUM_ROW_THREADS)
            s += value(n, c);
    partial[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && c < C) {
        for (int y = 1; y < COLSUM_ROW_THREADS; y++) s += partial[y][threadIdx.x];
        atomicAdd(&acc[c], s);
    }
}

// The plain value x[n,c] of a row-major (N,C) matrix: column sums of x itself.
struct MatrixEntry {
    const float *x;  // (N,C)
    int C;
    __device__ float operator()(int n, int c) const { return x[(size_t)n * C + c]; }
};

// Value: a struct with `__device__ float operator()(int n, int c) const`.
template <typename Value>
static void column_sum_accumulate(float *acc, int N, int C, Value value) {
    if (N <= 0 || C <= 0) return;
    const unsigned int max_grid_y = 65535;  // CUDA's limit on gridDim.y
    unsigned int chunks = ceil_div((size_t)N, COLSUM_MIN_ROWS_PER_BLOCK);
    if (chunks > max_grid_y) chunks = max_grid_y;
    int rows_per_block = (int)ceil_div((size_t)N, chunks);
    dim3 grid(ceil_div((size_t)C, COLSUM_COLS), chunks);
    dim3 block(COLSUM_COLS, COLSUM_ROW_THREADS);
    column_sum_kernel<<<grid, block, 0, cuda_stream()>>>(acc, N, C, rows_per_block, value);
    cudaLaunchCheck();
}
