// Token + position embedding lookup, and its scatter-add gradient.
#include <omp.h>

#include "kernels/common.h"
#include "kernels/ops_cpu.h"

void encoder_forward_cpu(float *out, const int *tokens, const float *wte, const float *wpe,
                         int B, int T, int C) {
    // out (B,T,C), tokens (B,T), wte (V,C), wpe (maxT,C)
#pragma omp parallel for collapse(2) schedule(static) if ((long)B * T * C > PARALLEL_MIN_WORK)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *tok = wte + (size_t)tokens[b * T + t] * C;
            const float *pos = wpe + (size_t)t * C;
            for (int c = 0; c < C; c++) o[c] = tok[c] + pos[c];
        }
}

void encoder_backward_cpu(float *dwte, float *dwpe, const float *dout, const int *tokens,
                          int B, int T, int C) {
    // Repeated tokens hit the same dwte row, so threads split the channels rather
    // than the positions; every thread walks all (b,t) in order (deterministic).
#pragma omp parallel if ((long)B * T * C > PARALLEL_MIN_WORK)
    {
        int threads = omp_get_num_threads(), id = omp_get_thread_num();
        int c0 = (int)((long)C * id / threads), c1 = (int)((long)C * (id + 1) / threads);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                const float *d = dout + ((size_t)b * T + t) * C;
                float *tok = dwte + (size_t)tokens[b * T + t] * C;
                float *pos = dwpe + (size_t)t * C;
                for (int c = c0; c < c1; c++) {
                    tok[c] += d[c];
                    pos[c] += d[c];
                }
            }
    }
}
