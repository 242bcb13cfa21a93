// AdamW with decoupled weight decay (Loshchilov & Hutter), bias-corrected.
#include <math.h>

#include "kernels/common.h"
#include "kernels/ops_cpu.h"

void adamw_cpu(float *params, const float *grads, float *m, float *v, size_t n, float lr,
               float beta1, float beta2, float eps, float weight_decay, int t,
               float grad_scale, int bf16_state) {
    if (t < 1) die("adamw: step t=%d must be >= 1 (bias correction divides by 1-beta^t)", t);
    float m_correction = 1.0f / (1.0f - powf(beta1, (float)t));
    float v_correction = 1.0f / (1.0f - powf(beta2, (float)t));
#pragma omp parallel for schedule(static) if (n > PARALLEL_MIN_WORK)
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] * grad_scale;
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        float update = mi * m_correction / (sqrtf(vi * v_correction) + eps);
        float p = params[i] - lr * (update + weight_decay * params[i]);
        if (bf16_state) {  // precision "bf16": the state itself is bf16
            p = round_bf16(p);
            mi = round_bf16(mi);
            vi = round_bf16(vi);
        }
        params[i] = p;
        m[i] = mi;
        v[i] = vi;
    }
}
