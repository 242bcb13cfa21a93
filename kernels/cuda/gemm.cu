// C[b] = alpha * op(A[b]) · op(B[b]) + beta * C[b] through cuBLAS, fp32 storage.
//
// cuBLAS is column-major. A row-major (r,c) matrix with row stride ld is, read
// column-major, its transpose (c,r) with leading dimension ld. So the row-major
// product C = op(A)·op(B) is computed as the column-major product
// Cᵀ = op(B)ᵀ·op(A)ᵀ: B comes first, A second, and M and N swap places. The
// transpose flags carry over unchanged (B stored (K,N) row-major is already
// op(B)ᵀ when read column-major, so it needs no transpose; a transposed B does).
//
// Precision: fp32 uses CUBLAS_COMPUTE_32F under the default math mode, a true
// fp32 product (no TF32), so it matches the CPU to ~1e-6. bf16 (the "mixed"
// precision of SPEC §4) rounds A and B to bf16 here, round-to-nearest-even as
// round_bf16() on the CPU, into scratch copies, and multiplies those bf16
// operands with fp32 accumulation and fp32 output (CUDA_R_16BF inputs under
// CUBLAS_COMPUTE_32F). It does not hand fp32 operands to
// CUBLAS_COMPUTE_32F_FAST_16BF: cuBLAS documents that compute type as "automatic
// down-conversion" without naming the rounding, so the two sides could round the
// same operand differently, which a 1e-4 tolerance (tests/gpu) would catch as
// an error only on some GPUs or library versions. Our own conversion also halves
// the bytes the tensor cores read.
#include <cuda_bf16.h>

#include "kernels/cuda/ops_cuda.h"

// The contiguous row stride of a stored (rows, cols) operand; cuBLAS wants >= 1
// even when cols is 0 (K = 0).
static int contiguous_ld(int cols) { return cols > 0 ? cols : 1; }

// Elements from an operand's first element to the last one any batch entry reads
// (rows x cols stored with row stride ld, repeated every stride elements).
static size_t operand_span(int rows, int cols, int ld, long stride, int batch) {
    if (rows == 0 || cols == 0) return 0;
    return (size_t)(batch - 1) * stride + (size_t)(rows - 1) * ld + cols;
}

struct ToBf16 {
    __nv_bfloat16 *out;
    const float *in;
    __device__ void operator()(size_t i) const { out[i] = __float2bfloat16_rn(in[i]); }
};

// A bf16 (round to nearest even) copy of the n elements at x, in scratch `slot`.
static const __nv_bfloat16 *bf16_operand(ScratchSlot slot, const float *x, size_t n) {
    __nv_bfloat16 *copy = (__nv_bfloat16 *)cuda_scratch(slot, (n ? n : 1) * sizeof(__nv_bfloat16));
    launch_elementwise(n, ToBf16{copy, x});
    return copy;
}

void cuda_gemm(const GemmArgs *g) {
    if (g->M == 0 || g->N == 0) return;
    int a_rows = g->transA ? g->K : g->M, a_cols = g->transA ? g->M : g->K;  // A as stored
    int b_rows = g->transB ? g->N : g->K, b_cols = g->transB ? g->K : g->N;  // B as stored
    int lda = g->lda ? g->lda : contiguous_ld(a_cols);
    int ldb = g->ldb ? g->ldb : contiguous_ld(b_cols);
    int ldc = g->ldc ? g->ldc : g->N;
    int batch = g->batch ? g->batch : 1;
    const void *A = g->A, *B = g->B;
    cudaDataType_t operand_type = CUDA_R_32F;
    if (g->bf16) {
        A = bf16_operand(SCRATCH_GEMM_A, g->A, operand_span(a_rows, a_cols, lda, g->strideA, batch));
        B = bf16_operand(SCRATCH_GEMM_B, g->B, operand_span(b_rows, b_cols, ldb, g->strideB, batch));
        operand_type = CUDA_R_16BF;
    }
    cublasCheck(cublasGemmStridedBatchedEx(
        cuda_context()->cublas, g->transB ? CUBLAS_OP_T : CUBLAS_OP_N,
        g->transA ? CUBLAS_OP_T : CUBLAS_OP_N, g->N, g->M, g->K, &g->alpha, B, operand_type, ldb,
        g->strideB, A, operand_type, lda, g->strideA, &g->beta, g->C, CUDA_R_32F, ldc, g->strideC,
        batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}
