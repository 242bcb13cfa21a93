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
// fp32 product (no TF32), so it matches the CPU to ~1e-6. bf16 uses
// CUBLAS_COMPUTE_32F_FAST_16BF: cuBLAS rounds the fp32 operands to bf16 and runs
// bf16 tensor cores with fp32 accumulation and fp32 output. That is how the
// "mixed" precision of SPEC §4 is realised here: fp32 storage everywhere, bf16
// operands inside the products, as the CPU path emulates with round_bf16().
#include "kernels/cuda/ops_cuda.h"

// The contiguous row stride of a stored (rows, cols) operand; cuBLAS wants >= 1
// even when cols is 0 (K = 0).
static int contiguous_ld(int cols) { return cols > 0 ? cols : 1; }

void cuda_gemm(const GemmArgs *g) {
    if (g->M == 0 || g->N == 0) return;
    int lda = g->lda ? g->lda : contiguous_ld(g->transA ? g->M : g->K);
    int ldb = g->ldb ? g->ldb : contiguous_ld(g->transB ? g->K : g->N);
    int ldc = g->ldc ? g->ldc : g->N;
    int batch = g->batch ? g->batch : 1;
    cublasComputeType_t compute = g->bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F;
    cublasCheck(cublasGemmStridedBatchedEx(
        cuda_context()->cublas, g->transB ? CUBLAS_OP_T : CUBLAS_OP_N,
        g->transA ? CUBLAS_OP_T : CUBLAS_OP_N, g->N, g->M, g->K, &g->alpha, g->B, CUDA_R_32F,
        ldb, g->strideB, g->A, CUDA_R_32F, lda, g->strideA, &g->beta, g->C, CUDA_R_32F, ldc,
        g->strideC, batch, compute, CUBLAS_GEMM_DEFAULT));
}
