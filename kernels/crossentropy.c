// Fused softmax cross-entropy over the vocabulary, the hottest non-GEMM op of the
// CPU path: per row one pass for the max, one for the sum of exponentials (which
// also leaves exp in the logits when a gradient is wanted), one to scale them.
// The exponentials use fast_expf so that the passes vectorise.
#include <math.h>

#include "kernels/common.h"
#include "kernels/fast_exp.h"
#include "kernels/ops_cpu.h"

// Exponentials are summed in float over blocks of this many (vectorised), and
// the block sums in double: accurate over V = 50257 terms at float speed.
#define SUM_BLOCK 512

// sum_v exp(z[v] - max) over one row (V); when `store`, z[v] becomes the exp.
static double sum_exp(float *z, int V, float max, int store) {
    double total = 0.0;
    for (int v0 = 0; v0 < V; v0 += SUM_BLOCK) {
        int v1 = V - v0 < SUM_BLOCK ? V : v0 + SUM_BLOCK;
        float block = 0.0f;
        if (store) {
#pragma omp simd reduction(+ : block)
            for (int v = v0; v < v1; v++) {
                z[v] = fast_expf(z[v] - max);
                block += z[v];
            }
        } else {
#pragma omp simd reduction(+ : block)
            for (int v = v0; v < v1; v++) block += fast_expf(z[v] - max);
        }
        total += block;
    }
    return total;
}

void softmax_xent_cpu(float *losses, float *logits, const int *targets, int N, int V,
                      float dscale) {
#pragma omp parallel for schedule(static) if ((long)N * V > PARALLEL_MIN_WORK)
    for (int i = 0; i < N; i++) {
        float *z = logits + (size_t)i * V;  // (V)
        int target = targets[i];
        if (target < 0) {  // ignored position: no loss, no gradient
            losses[i] = 0.0f;
            if (dscale != 0.0f) memset(z, 0, (size_t)V * sizeof(float));
            continue;
        }
        if (target >= V)
            die("softmax_xent: target %d of row %d is outside the vocabulary [0,%d)", target, i,
                V);
        float max = -INFINITY;
#pragma omp simd reduction(max : max)
        for (int v = 0; v < V; v++) max = z[v] > max ? z[v] : max;
        float target_logit = z[target];
        int want_grad = dscale != 0.0f;
        double sum = sum_exp(z, V, max, want_grad);
        losses[i] = (float)(log(sum) + max - target_logit);
        if (want_grad) {
            float norm = (float)(dscale / sum);
#pragma omp simd
            for (int v = 0; v < V; v++) z[v] *= norm;
            z[target] -= dscale;
        }
    }
}
