// Plain-C reference of the MoE routing ops (contracts in kernels/routing.h).
#include "kernels/routing.h"

#include <math.h>
#include <string.h>

static void group_argmax_onehot(float *w, const float *logits, int M, int G, int E) {
    for (int g = 0; g < M; g++) {
        const float *lg = logits + (size_t)g * G * E;  // (G,E)
        float *wg = w + (size_t)g * G * E;             // (G,E)
        for (int e = 0; e < E; e++) {
            int best = 0;
            for (int i = 1; i < G; i++)
                if (lg[(size_t)i * E + e] > lg[(size_t)best * E + e]) best = i;
            for (int i = 0; i < G; i++) wg[(size_t)i * E + e] = (i == best) ? 1.0f : 0.0f;
        }
    }
}

// Whether row a ranks before row b: higher probability first, lower row on ties.
// A NaN probability ranks as -inf, so every row still gets a distinct rank and
// each slot exactly one token (the CUDA twin fills slots by rank in parallel; NaN
// comparing false both ways would give two rows one rank there). The NaN itself
// stays in slot_gate, so the loss turns NaN and the trainer's divergence check sees it.
static int ranks_before(float pa, int a, float pb, int b) {
    pa = isnan(pa) ? -INFINITY : pa;
    pb = isnan(pb) ? -INFINITY : pb;
    return pa > pb || (pa == pb && a < b);
}

static void ec_topk(int *slot_token, float *slot_gate, const float *probs, int M, int G,
                    int E, int k) {
    for (int e = 0; e < E; e++) {
        for (int g = 0; g < M; g++) {
            const float *pg = probs + (size_t)g * G * E + e;  // column e of (G,E), stride E
            int *tok = slot_token + ((size_t)e * M + g) * k;   // (k)
            float *gate = slot_gate + ((size_t)e * M + g) * k; // (k)
            // Insertion into a sorted top-k list; G is small (<= a few hundred).
            int filled = 0;
            for (int i = 0; i < G; i++) {
                float p = pg[(size_t)i * E];
                int row = g * G + i, pos = filled;
                while (pos > 0 && ranks_before(p, row, gate[pos - 1], tok[pos - 1])) pos--;
                if (pos >= k) continue;
                int last = filled < k ? filled : k - 1;
                for (int j = last; j > pos; j--) {
                    tok[j] = tok[j - 1];
                    gate[j] = gate[j - 1];
                }
                tok[pos] = row;
                gate[pos] = p;
                if (filled < k) filled++;
            }
        }
    }
}

static void tc_route(int *slot_token, float *slot_gate, int *counts, const float *probs,
                     int N, int E, int C) {
    for (size_t r = 0; r < (size_t)E * C; r++) {
        slot_token[r] = -1;
        slot_gate[r] = 0.0f;
    }
    memset(counts, 0, (size_t)E * sizeof(int));
    for (int n = 0; n < N; n++) {
        const float *p = probs + (size_t)n * E;  // (E)
        int best = 0;
        for (int e = 1; e < E; e++)
            if (p[e] > p[best]) best = e;
        int slot = counts[best]++;
        if (slot < C) {
            slot_token[(size_t)best * C + slot] = n;
            slot_gate[(size_t)best * C + slot] = p[best];
        }
    }
}

static void tc_aux_loss(float *aux, const float *probs, const int *counts, int N, int E) {
    double total = 0;
    for (int e = 0; e < E; e++) {
        double mean_p = 0;
        for (int n = 0; n < N; n++) mean_p += probs[(size_t)n * E + e];
        mean_p /= N;
        total += mean_p * counts[e] / N;
    }
    aux[0] = (float)(E * total);
}

static void tc_aux_loss_backward(float *dprobs, const int *counts, int N, int E,
                                 float scale) {
    for (int e = 0; e < E; e++) {
        float g = (float)((double)scale * E * counts[e] / ((double)N * N));
        for (int n = 0; n < N; n++) dprobs[(size_t)n * E + e] += g;
    }
}

static void gather_rows(float *out, const float *inp, const int *slot_token, int rows,
                        int d) {
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * d;
        if (slot_token[r] < 0)
            memset(o, 0, (size_t)d * sizeof(float));
        else
            memcpy(o, inp + (size_t)slot_token[r] * d, (size_t)d * sizeof(float));
    }
}

static void scatter_add_rows(float *out, const float *inp, const int *slot_token,
                             const float *scale, int rows, int d) {
    for (int r = 0; r < rows; r++) {
        if (slot_token[r] < 0) continue;
        float s = scale ? scale[r] : 1.0f;
        float *o = out + (size_t)slot_token[r] * d;
        const float *x = inp + (size_t)r * d;
        for (int i = 0; i < d; i++) o[i] += s * x[i];
    }
}

static void scatter_add_rows_backward(float *dinp, float *dscale, const float *dout,
                                      const float *inp, const int *slot_token,
                                      const float *scale, int rows, int d) {
    for (int r = 0; r < rows; r++) {
        if (slot_token[r] < 0) continue;
        const float *go = dout + (size_t)slot_token[r] * d;
        const float *x = inp + (size_t)r * d;
        float *gx = dinp + (size_t)r * d;
        float dot = 0.0f;
        for (int i = 0; i < d; i++) {
            gx[i] += scale[r] * go[i];
            dot += go[i] * x[i];
        }
        dscale[r] += dot;
    }
}

static void slot_gate_backward(float *dprobs, const float *dgate, const int *slot_token,
                               int E, int S) {
    for (int e = 0; e < E; e++)
        for (int s = 0; s < S; s++) {
            int n = slot_token[(size_t)e * S + s];
            if (n >= 0) dprobs[(size_t)n * E + e] += dgate[(size_t)e * S + s];
        }
}

#define ROUTING_SLOT(slot) .slot = slot,
#define COUNT_SLOT(slot) +1
const struct RoutingOps routing_ops_cpu = {ROUTING_OP_SLOTS(ROUTING_SLOT)};
_Static_assert(sizeof(struct RoutingOps) == (0 ROUTING_OP_SLOTS(COUNT_SLOT)) * sizeof(void (*)(void)),
               "ROUTING_OP_SLOTS (kernels/routing.h) must name every RoutingOps slot");
