// AdamW with decoupled weight decay, bias-corrected; the same float arithmetic
// per element as kernels/adamw.c.
#include <math.h>

#include "kernels/cuda/ops_cuda.h"

struct AdamwStep {
    float *params, *m, *v;  // (n)
    const float *grads;     // (n)
    float lr, beta1, beta2, eps, weight_decay, grad_scale;
    float m_correction, v_correction;  // 1/(1-beta^t), computed once on the host
    int bf16_state;
    __device__ void operator()(size_t i) const {
        float g = grads[i] * grad_scale;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        float update = mi * m_correction / (sqrtf(vi * v_correction) + eps);
        float p = params[i] - lr * (update + weight_decay * params[i]);
        if (bf16_state) {  // precision "bf16": the state itself is bf16
            p = round_to_bf16(p);
            mi = round_to_bf16(mi);
            vi = round_to_bf16(vi);
        }
        params[i] = p;
        m[i] = mi;
        v[i] = vi;
    }
};

void cuda_adamw(float *params, const float *grads, float *m, float *v, size_t n, float lr,
                float beta1, float beta2, float eps, float weight_decay, int t,
                float grad_scale, int bf16_state) {
    if (t < 1) die("adamw: step t=%d must be >= 1 (bias correction divides by 1-beta^t)", t);
    AdamwStep step = {params, m, v, grads, lr, beta1, beta2, eps, weight_decay, grad_scale,
                      1.0f / (1.0f - powf(beta1, (float)t)),
                      1.0f / (1.0f - powf(beta2, (float)t)), bf16_state};
    launch_elementwise(n, step);
}
