// Fused softmax cross-entropy over the vocabulary, the hottest non-GEMM op of the
// CPU path: per row one pass for the max, one for the sum of exponentials (which
// also leaves exp in the logits when a gradient is wanted), one to scale them.
#include <math.h>

#include "kernels/common.h"
#include "kernels/ops_cpu.h"

void softmax_xent_cpu(float *losses, float *logits, const int *targets, int N, int V,
                      float dscale) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        float *z = logits + (size_t)i * V;  // (V)
        int target = targets[i];
        if (target < 0) {  // ignored position: no loss, no gradient
            losses[i] = 0.0f;
            if (dscale != 0.0f) memset(z, 0, (size_t)V * sizeof(float));
            continue;
        }
        if (target >= V) die("softmax_xent: target %d of row %d is outside the vocabulary [0,%d)",
                             target, i, V);
        float max = -INFINITY;
#pragma omp simd reduction(max : max)
        for (int v = 0; v < V; v++) max = fmaxf(max, z[v]);
        float target_logit = z[target];
        double sum = 0.0;  // double: 50257 terms
        if (dscale != 0.0f) {
            for (int v = 0; v < V; v++) {
                float e = expf(z[v] - max);
                z[v] = e;
                sum += e;
            }
            float norm = dscale / (float)sum;
            for (int v = 0; v < V; v++) z[v] *= norm;
            z[target] -= dscale;
        } else {
            for (int v = 0; v < V; v++) sum += expf(z[v] - max);
        }
        losses[i] = (float)(log(sum) + max - target_logit);
    }
}
