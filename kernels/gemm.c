// Strided-batched row-major GEMM through OpenBLAS cblas_sgemm.
#include "kernels/gemm.h"

#include <cblas.h>
#include <omp.h>

#include "kernels/base/clock.h"
#include "kernels/common.h"
#include "kernels/ops_cpu.h"

// A batch whose matrices each need at most this many multiply-adds is spread over
// OpenMP threads (one single-threaded sgemm per matrix): OpenBLAS threads such
// small products poorly. Larger matrices are threaded by OpenBLAS itself.
#define SMALL_GEMM_MACS (1L << 24)

int blas_threads_serial_begin(void) {
    int saved = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return saved;
}

void blas_threads_serial_end(int saved) { openblas_set_num_threads(saved); }

float *bf16_rounded_copy(const float *x, size_t n) {
    float *r = mallocCheck(n * sizeof(float));
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) r[i] = round_bf16(x[i]);
    return r;
}

// One stored operand of the batch: `rows` x `cols` with row stride ld, repeated
// every `stride` elements.
typedef struct {
    int rows, cols, ld;
    long stride;
} Operand;

static Operand operand(const char *name, int trans, int op_rows, int op_cols, int ld,
                       long stride) {
    Operand o = {.rows = trans ? op_cols : op_rows, .cols = trans ? op_rows : op_cols};
    o.ld = ld ? ld : (o.cols > 0 ? o.cols : 1);
    if (o.ld < o.cols)
        die("gemm: %s row stride %d is shorter than a stored row of %d elements "
            "(pass 0 for contiguous rows)", name, ld, o.cols);
    if (stride < 0) die("gemm: %s batch stride %ld is negative", name, stride);
    o.stride = stride;
    return o;
}

// Elements from an operand's first element to the last one any batch entry reads.
static size_t operand_span(Operand o, int batch) {
    if (o.rows == 0 || o.cols == 0) return 0;
    return (size_t)(batch - 1) * o.stride + (size_t)(o.rows - 1) * o.ld + o.cols;
}

void gemm_cpu(const GemmArgs *g) {
    int batch = g->batch ? g->batch : 1;
    if (g->M < 0 || g->N < 0 || g->K < 0 || batch < 0)
        die("gemm: negative size M=%d N=%d K=%d batch=%d", g->M, g->N, g->K, batch);
    Operand a = operand("A", g->transA, g->M, g->K, g->lda, g->strideA);
    Operand b = operand("B", g->transB, g->K, g->N, g->ldb, g->strideB);
    Operand c = operand("C", 0, g->M, g->N, g->ldc, g->strideC);
    if (g->M == 0 || g->N == 0) return;

    // bf16: round every element the batch can read, so all offsets stay valid.
    const float *A = g->A, *B = g->B;
    float *A_bf16 = NULL, *B_bf16 = NULL;
    if (g->bf16) {
        A = A_bf16 = bf16_rounded_copy(g->A, operand_span(a, batch));
        B = B_bf16 = bf16_rounded_copy(g->B, operand_span(b, batch));
    }
    enum CBLAS_TRANSPOSE ta = g->transA ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = g->transB ? CblasTrans : CblasNoTrans;

    long macs = (long)g->M * g->N * g->K;
    int spread = batch > 1 && macs <= SMALL_GEMM_MACS && macs * batch > PARALLEL_MIN_WORK;
    int saved_threads = spread ? blas_threads_serial_begin() : 0;
#pragma omp parallel for schedule(static) if (spread)
    for (int i = 0; i < batch; i++)
        cblas_sgemm(CblasRowMajor, ta, tb, g->M, g->N, g->K, g->alpha, A + i * a.stride, a.ld,
                    B + i * b.stride, b.ld, g->beta, g->C + i * c.stride, c.ld);
    if (spread) blas_threads_serial_end(saved_threads);
    free(A_bf16);
    free(B_bf16);
}

double gemm_measure_gflops(int M, int N, int K, double seconds) {
    if (M <= 0 || N <= 0 || K <= 0)
        die("gemm_measure_gflops: sizes must be positive, got M=%d N=%d K=%d", M, N, K);
    float *A = mallocCheck((size_t)M * K * sizeof(float));  // (M,K)
    float *B = mallocCheck((size_t)K * N * sizeof(float));  // (K,N)
    float *C = mallocCheck((size_t)M * N * sizeof(float));  // (M,N)
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)K * N; i++) B[i] = (float)(i % 5) * 0.1f;
    GemmArgs g = {.M = M, .N = N, .K = K, .alpha = 1.0f, .A = A, .B = B, .C = C};
    gemm_cpu(&g);  // warm-up: OpenBLAS thread start, page faults
    long products = 0;
    double start = monotonic_seconds(), elapsed;
    do {
        gemm_cpu(&g);
        products++;
        elapsed = monotonic_seconds() - start;
    } while (elapsed < seconds);
    free(A);
    free(B);
    free(C);
    return 2.0 * M * N * K * products / elapsed * 1e-9;
}
