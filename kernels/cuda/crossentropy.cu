// Fused softmax cross-entropy over the vocabulary: one block per row (V = 50257
// logits), max and sum of exponentials by block reductions, then, when a
// gradient is wanted, the logits are overwritten by dscale * (softmax - onehot).
#include <math.h>

#include "kernels/cuda/ops_cuda.h"

enum { XENT_BLOCK = 512 };

__global__ void softmax_xent_kernel(float *losses, float *logits, const int *targets, int V,
                                    float dscale) {
    int row = blockIdx.x;
    float *z = logits + (size_t)row * V;  // (V)
    int target = targets[row];            // the same for the whole block
    if (target < 0 || target >= V) {
        // < 0: an ignored position, no loss and no gradient. >= V: a bad target;
        // the kernel cannot stop the run, so it poisons loss and gradient with NaN,
        // which the trainer's divergence check reports.
        float fill = target < 0 ? 0.0f : NAN;
        if (threadIdx.x == 0) losses[row] = fill;
        if (dscale != 0.0f)
            for (int v = threadIdx.x; v < V; v += blockDim.x) z[v] = fill;
        return;
    }
    float max = -INFINITY;
    for (int v = threadIdx.x; v < V; v += blockDim.x) max = fmaxf(max, z[v]);
    max = block_reduce(max, MaxOp(), -INFINITY);
    float sum = 0.0f;
    for (int v = threadIdx.x; v < V; v += blockDim.x) sum += expf(z[v] - max);
    // Read before the reduction's barrier: after it, threads start overwriting z.
    float target_logit = z[target];
    sum = block_reduce(sum, SumOp(), 0.0f);
    if (threadIdx.x == 0) losses[row] = (float)(log((double)sum) + max - target_logit);
    if (dscale != 0.0f) {
        float norm = dscale / sum;
        for (int v = threadIdx.x; v < V; v += blockDim.x)
            z[v] = expf(z[v] - max) * norm - (v == target ? dscale : 0.0f);
    }
}

void cuda_softmax_xent(float *losses, float *logits, const int *targets, int N, int V,
                       float dscale) {
    if (N <= 0) return;
    softmax_xent_kernel<<<N, XENT_BLOCK, 0, cuda_stream()>>>(losses, logits, targets, V, dscale);
    cudaLaunchCheck();
}
