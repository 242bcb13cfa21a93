// CUDA twins of the MoE routing ops (contracts in kernels/routing.h, reference in
// kernels/routing.c). Selection kernels are deterministic and pick exactly the
// tokens the CPU picks (ties towards the lower index); nothing here waits for
// the host.
#include "kernels/cuda/ops_cuda.h"

// ---- Mixture of Tokens -------------------------------------------------------

// One thread per (group g, expert e): the first row of the group with the
// largest logit gets 1, the others 0.
struct GroupArgmaxOnehot {
    float *w;             // (M,G,E)
    const float *logits;  // (M,G,E)
    int G, E;
    __device__ void operator()(size_t ge) const {
        size_t g = ge / E, e = ge % E;
        const float *lg = logits + g * G * E + e;  // column e of the group, stride E
        float *wg = w + g * G * E + e;
        int best = 0;
        for (int i = 1; i < G; i++)
            if (lg[(size_t)i * E] > lg[(size_t)best * E]) best = i;
        for (int i = 0; i < G; i++) wg[(size_t)i * E] = i == best ? 1.0f : 0.0f;
    }
};

static void group_argmax_onehot(float *w, const float *logits, int M, int G, int E) {
    launch_elementwise((size_t)M * E, GroupArgmaxOnehot{w, logits, G, E});
}

// ---- Expert Choice -----------------------------------------------------------

// Whether row a ranks before row b: higher probability first, lower row on ties.
// NaN ranks as -inf, as on the CPU: were it to compare false both ways, a NaN row
// and the rows around it would share one rank, two threads would write one slot
// and another slot would keep stale contents.
__device__ inline bool ranks_before(float pa, int a, float pb, int b) {
    pa = isnan(pa) ? -INFINITY : pa;
    pb = isnan(pb) ? -INFINITY : pb;
    return pa > pb || (pa == pb && a < b);
}

// One thread per (group g, row i, expert e). The row's rank among the G rows of
// its group for expert e is the number of rows that rank before it; ranks are
// distinct, so the rows of rank < k fill slots (e,g,0..k-1) exactly once each,
// in the CPU's order, without any sorting or communication.
struct EcTopk {
    int *slot_token;     // (E,M,k)
    float *slot_gate;    // (E,M,k)
    const float *probs;  // (M,G,E)
    int M, G, E, k;
    __device__ void operator()(size_t idx) const {  // idx = (g*G + i)*E + e
        int e = (int)(idx % E), row = (int)(idx / E), g = row / G, i = row % G;
        const float *column = probs + (size_t)g * G * E + e;  // (G), stride E
        float p = column[(size_t)i * E];
        int rank = 0;
        for (int j = 0; j < G; j++)
            if (j != i && ranks_before(column[(size_t)j * E], j, p, i)) rank++;
        if (rank < k) {
            size_t slot = ((size_t)e * M + g) * k + rank;
            slot_token[slot] = row;
            slot_gate[slot] = p;
        }
    }
};

static void ec_topk(int *slot_token, float *slot_gate, const float *probs, int M, int G, int E,
                    int k) {
    launch_elementwise((size_t)M * G * E, EcTopk{slot_token, slot_gate, probs, M, G, E, k});
}

// ---- Token Choice ------------------------------------------------------------

// choice (N) = argmax over experts of each token's probabilities (lower e on ties).
struct TokenArgmax {
    int *choice;         // (N)
    const float *probs;  // (N,E)
    int E;
    __device__ void operator()(size_t n) const {
        const float *p = probs + n * E;  // (E)
        int best = 0;
        for (int e = 1; e < E; e++)
            if (p[e] > p[best]) best = e;
        choice[n] = best;
    }
};

enum { TC_BLOCK = 1024 };

// One block per expert e walks the tokens in order, TC_BLOCK at a time. A
// token's slot is the number of earlier tokens that chose e: the count before
// this chunk plus an exclusive prefix count inside it (ballots per warp, then
// the warps' totals through shared memory). Slots past the last token, up to
// capacity C, are emptied; counts[e] gets the total, dropped tokens included.
__global__ void tc_fill_slots_kernel(int *slot_token, float *slot_gate, int *counts,
                                     const int *choice, const float *probs, int N, int E,
                                     int C) {
    __shared__ int warp_counts[TC_BLOCK / WARP_SIZE];
    int e = blockIdx.x, lane = lane_index(), warp = threadIdx.x / WARP_SIZE;
    int *tokens = slot_token + (size_t)e * C;  // (C)
    float *gates = slot_gate + (size_t)e * C;  // (C)
    int before_chunk = 0;
    for (int start = 0; start < N; start += TC_BLOCK) {  // uniform trip count: barriers are safe
        int n = start + threadIdx.x;
        bool chose_e = n < N && choice[n] == e;
        unsigned int ballot = __ballot_sync(0xffffffffu, chose_e);
        if (lane == 0) warp_counts[warp] = __popc(ballot);
        __syncthreads();
        int slot = before_chunk + __popc(ballot & ((1u << lane) - 1u));
        int chunk_total = 0;
        for (int w = 0; w < TC_BLOCK / WARP_SIZE; w++) {
            if (w < warp) slot += warp_counts[w];
            chunk_total += warp_counts[w];
        }
        if (chose_e && slot < C) {
            tokens[slot] = n;
            gates[slot] = probs[(size_t)n * E + e];
        }
        before_chunk += chunk_total;
        __syncthreads();  // warp_counts is rewritten by the next chunk
    }
    for (int slot = before_chunk + threadIdx.x; slot < C; slot += TC_BLOCK) {
        tokens[slot] = -1;
        gates[slot] = 0.0f;
    }
    if (threadIdx.x == 0) counts[e] = before_chunk;
}

static void tc_route(int *slot_token, float *slot_gate, int *counts, const float *probs, int N,
                     int E, int C) {
    if (E <= 0) return;
    int *choice = (int *)cuda_scratch(SCRATCH_ROUTING, (size_t)(N > 0 ? N : 1) * sizeof(int));
    launch_elementwise((size_t)N, TokenArgmax{choice, probs, E});
    tc_fill_slots_kernel<<<E, TC_BLOCK, 0, cuda_stream()>>>(slot_token, slot_gate, counts, choice,
                                                            probs, N, E, C);
    cudaLaunchCheck();
}

enum { AUX_BLOCK = 1024 };

// aux[0] = E * sum_{n,e} probs[n,e] * counts[e] / N², in double as the CPU. One
// block: N*E is at most a few million, and the order is then fixed.
__global__ void tc_aux_loss_kernel(float *aux, const float *probs, const int *counts, int N,
                                   int E) {
    double s = 0.0;
    size_t total = (size_t)N * E;
    for (size_t i = threadIdx.x; i < total; i += AUX_BLOCK) s += (double)probs[i] * counts[i % E];
    s = block_reduce(s, SumOp(), 0.0);
    if (threadIdx.x == 0) aux[0] = (float)((double)E * s / ((double)N * N));
}

static void tc_aux_loss(float *aux, const float *probs, const int *counts, int N, int E) {
    tc_aux_loss_kernel<<<1, AUX_BLOCK, 0, cuda_stream()>>>(aux, probs, counts, N, E);
    cudaLaunchCheck();
}

struct TcAuxLossBackward {
    float *dprobs;      // (N,E)
    const int *counts;  // (E)
    int N, E;
    float scale;
    __device__ void operator()(size_t i) const {
        int e = (int)(i % E);
        dprobs[i] += (float)((double)scale * E * counts[e] / ((double)N * N));
    }
};

static void tc_aux_loss_backward(float *dprobs, const int *counts, int N, int E, float scale) {
    launch_elementwise((size_t)N * E, TcAuxLossBackward{dprobs, counts, N, E, scale});
}

// ---- slots <-> tokens ----------------------------------------------------------

struct GatherRows {
    float *out;             // (rows,d)
    const float *inp;       // (N,d)
    const int *slot_token;  // (rows)
    int d;
    __device__ void operator()(size_t i) const {
        int token = slot_token[i / d];
        out[i] = token < 0 ? 0.0f : inp[(size_t)token * d + i % d];
    }
};

static void gather_rows(float *out, const float *inp, const int *slot_token, int rows, int d) {
    launch_elementwise((size_t)rows * d, GatherRows{out, inp, slot_token, d});
}

// Several slots may hold the same token (EC), so rows of out collect with atomics.
struct ScatterAddRows {
    float *out;             // (N,d)
    const float *inp;       // (rows,d)
    const int *slot_token;  // (rows)
    const float *scale;     // (rows) or NULL for 1
    int d;
    __device__ void operator()(size_t i) const {
        size_t r = i / d;
        int token = slot_token[r];
        if (token < 0) return;
        float s = scale ? scale[r] : 1.0f;
        atomicAdd(&out[(size_t)token * d + i % d], s * inp[i]);
    }
};

static void scatter_add_rows(float *out, const float *inp, const int *slot_token,
                             const float *scale, int rows, int d) {
    launch_elementwise((size_t)rows * d, ScatterAddRows{out, inp, slot_token, scale, d});
}

// One warp per slot row r: dinp row r += scale[r] * dout row token, and
// dscale[r] += dot(dout row token, inp row r). Each r is written by one warp only.
__global__ void scatter_add_rows_backward_kernel(float *dinp, float *dscale, const float *dout,
                                                 const float *inp, const int *slot_token,
                                                 const float *scale, int rows, int d) {
    size_t r = warp_row_index();
    int lane = lane_index();
    if (r >= (size_t)rows) return;
    int token = slot_token[r];
    if (token < 0) return;  // the whole warp leaves together
    const float *go = dout + (size_t)token * d;  // (d)
    const float *x = inp + r * d;                // (d)
    float *gx = dinp + r * d;                    // (d)
    float dot = 0.0f;
    for (int j = lane; j < d; j += WARP_SIZE) {
        gx[j] += scale[r] * go[j];
        dot += go[j] * x[j];
    }
    dot = warp_reduce(dot, SumOp());
    if (lane == 0) dscale[r] += dot;
}

static void scatter_add_rows_backward(float *dinp, float *dscale, const float *dout,
                                      const float *inp, const int *slot_token,
                                      const float *scale, int rows, int d) {
    if (rows <= 0) return;
    scatter_add_rows_backward_kernel<<<warp_row_blocks(rows), BLOCK_SIZE, 0, cuda_stream()>>>(
        dinp, dscale, dout, inp, slot_token, scale, rows, d);
    cudaLaunchCheck();
}

// (token,e) pairs are unique in a valid slot table; atomicAdd costs nothing here
// and keeps a malformed one from racing.
struct SlotGateBackward {
    float *dprobs;          // (N,E)
    const float *dgate;     // (E,S)
    const int *slot_token;  // (E,S)
    int E, S;
    __device__ void operator()(size_t slot) const {
        int token = slot_token[slot];
        if (token >= 0) atomicAdd(&dprobs[(size_t)token * E + slot / S], dgate[slot]);
    }
};

static void slot_gate_backward(float *dprobs, const float *dgate, const int *slot_token, int E,
                               int S) {
    launch_elementwise((size_t)E * S, SlotGateBackward{dprobs, dgate, slot_token, E, S});
}

#define ROUTING_SLOT(slot) .slot = slot,
extern "C" const struct RoutingOps routing_ops_cuda = {ROUTING_OP_SLOTS(ROUTING_SLOT)};
