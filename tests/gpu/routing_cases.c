// Every op of kernels/routing.h, CPU table against CUDA table. Selections
// (argmax, top-k, capacity) must pick identical tokens, so their inputs are
// drawn with many exact ties to exercise the tie-breaking rule; the gathers and
// scatters see empty slots and tokens that several slots hold.
#include <math.h>
#include <stdlib.h>

#include "kernels/common.h"
#include "tests/gpu/harness.h"

static const struct RoutingOps *routing(const Harness *h, int side) {
    return side_ops(h, side)->routing;
}

// Router-like values (rows,E): uniform in [0,1), rounded to quarters when ties
// is set (so equal values are common), plus 0.5 on the first `skew_experts`
// experts (so those overflow their capacity).
static Twin router_values(Harness *h, size_t rows, int E, int ties, int skew_experts) {
    float *host = mallocCheck(rows * E * sizeof(float));
    for (size_t i = 0; i < rows * E; i++) {
        float u = (float)harness_uniform(h);
        if (ties) u = floorf(4.0f * u) / 4.0f;
        host[i] = u + ((int)(i % E) < skew_experts ? 0.5f : 0.0f);
    }
    Twin t = twin_from_host(h, host, rows * E);
    free(host);
    return t;
}

// A valid Token Choice slot table (E,C) on both sides, made by the CPU route.
static IntTwin tc_slots(Harness *h, int N, int E, int C) {
    Twin probs = router_values(h, N, E, 0, 1);
    int *slots = mallocCheck((size_t)E * C * sizeof(int));
    float *gates = mallocCheck((size_t)E * C * sizeof(float));
    int *counts = mallocCheck((size_t)E * sizeof(int));
    h->cpu->routing->tc_route(slots, gates, counts, probs.cpu, N, E, C);
    IntTwin t = int_twin_from_host(h, slots, (size_t)E * C);
    free(slots);
    free(gates);
    free(counts);
    twin_free(h, &probs);
    return t;
}

// d: M, G, E, ties. With ties, the last row of every third group is -INFINITY
// (a padding row).
static double run_group_argmax_onehot(Harness *h, const int *d) {
    int M = d[0], G = d[1], E = d[2];
    Twin logits = router_values(h, (size_t)M * G, E, d[3], 0);
    if (d[3])
        for (int g = 0; g < M; g += 3)
            for (int e = 0; e < E; e++) logits.cpu[((size_t)g * G + G - 1) * E + e] = -INFINITY;
    h->gpu->to_device(logits.gpu, logits.cpu, logits.n * sizeof(float));
    Twin w = twin_random(h, logits.n, 1.0f);
    FOR_EACH_SIDE(side) routing(h, side)->group_argmax_onehot(ON(w, side), ON(logits, side), M, G, E);
    twin_free(h, &logits);
    return twins_error_free(h, &w, 1);
}

// d: M, G, E, k, ties; ties = 2 also makes every 5th probability NaN, which both
// sides rank as -inf (the NaN gates must then match bit for bit).
static double run_ec_topk(Harness *h, const int *d) {
    int M = d[0], G = d[1], E = d[2], k = d[3];
    size_t slots = (size_t)E * M * k;
    Twin probs = router_values(h, (size_t)M * G, E, d[4] != 0, 0);
    if (d[4] == 2) {
        for (size_t i = 0; i < probs.n; i += 5) probs.cpu[i] = NAN;
        h->gpu->to_device(probs.gpu, probs.cpu, probs.n * sizeof(float));
    }
    IntTwin token = int_twin_random(h, slots, 0, 1);
    Twin gate = twin_random(h, slots, 1.0f);
    FOR_EACH_SIDE(side)
        routing(h, side)->ec_topk(ON(token, side), ON(gate, side), ON(probs, side), M, G, E, k);
    double err = worst_error(int_twin_error(h, &token),
                             d[4] == 2 ? twin_bits_error(h, &gate) : twin_error(h, &gate));
    int_twin_free(h, &token);
    twin_free(h, &probs);
    twin_free(h, &gate);
    return err;
}

// d: N, E, C, ties. The first expert draws most tokens and overflows.
static double run_tc_route(Harness *h, const int *d) {
    int N = d[0], E = d[1], C = d[2];
    Twin probs = router_values(h, N, E, d[3], 1);
    IntTwin token = int_twin_random(h, (size_t)E * C, 0, 1), counts = int_twin_random(h, E, 0, 1);
    Twin gate = twin_random(h, (size_t)E * C, 1.0f);
    FOR_EACH_SIDE(side)
        routing(h, side)->tc_route(ON(token, side), ON(gate, side), ON(counts, side), ON(probs, side),
                                   N, E, C);
    double err = worst_error(int_twin_error(h, &token), int_twin_error(h, &counts));
    int_twin_free(h, &token);
    int_twin_free(h, &counts);
    twin_free(h, &probs);
    return worst_error(err, twins_error_free(h, &gate, 1));
}

// d: N, E. counts from the CPU route of the same probabilities.
static double run_tc_aux_loss(Harness *h, const int *d) {
    int N = d[0], E = d[1], C = N;
    Twin probs = router_values(h, N, E, 0, 1);
    int *slots = mallocCheck((size_t)E * C * sizeof(int));
    float *gates = mallocCheck((size_t)E * C * sizeof(float));
    int *counts = mallocCheck((size_t)E * sizeof(int));
    h->cpu->routing->tc_route(slots, gates, counts, probs.cpu, N, E, C);
    IntTwin cnt = int_twin_from_host(h, counts, E);
    Twin aux = twin_random(h, 1, 1.0f);
    FOR_EACH_SIDE(side) routing(h, side)->tc_aux_loss(ON(aux, side), ON(probs, side), ON(cnt, side), N, E);
    free(slots);
    free(gates);
    free(counts);
    int_twin_free(h, &cnt);
    twin_free(h, &probs);
    return twins_error_free(h, &aux, 1);
}

// d: N, E
static double run_tc_aux_loss_backward(Harness *h, const int *d) {
    int N = d[0], E = d[1];
    IntTwin counts = int_twin_random(h, E, 0, N + 1);
    Twin dprobs = twin_random(h, (size_t)N * E, 1.0f);
    FOR_EACH_SIDE(side)
        routing(h, side)->tc_aux_loss_backward(ON(dprobs, side), ON(counts, side), N, E, 0.01f);
    int_twin_free(h, &counts);
    return twins_error_free(h, &dprobs, 1);
}

// d: rows, d, N. Slot tokens in [-1, N): empty slots and repeated tokens.
static double run_gather_rows(Harness *h, const int *d) {
    int rows = d[0], width = d[1], N = d[2];
    IntTwin token = int_twin_random(h, rows, -1, N);
    Twin inp = twin_random(h, (size_t)N * width, 1.0f), out = twin_random(h, (size_t)rows * width, 1.0f);
    FOR_EACH_SIDE(side)
        routing(h, side)->gather_rows(ON(out, side), ON(inp, side), ON(token, side), rows, width);
    int_twin_free(h, &token);
    twin_free(h, &inp);
    return twins_error_free(h, &out, 1);
}

// d: rows, d, N, scaled (0: scale == NULL)
static double run_scatter_add_rows(Harness *h, const int *d) {
    int rows = d[0], width = d[1], N = d[2];
    IntTwin token = int_twin_random(h, rows, -1, N);
    Twin inp = twin_random(h, (size_t)rows * width, 1.0f), scale = twin_random(h, rows, 1.0f);
    Twin out = twin_random(h, (size_t)N * width, 1.0f);
    FOR_EACH_SIDE(side)
        routing(h, side)->scatter_add_rows(ON(out, side), ON(inp, side), ON(token, side),
                                           d[3] ? ON(scale, side) : NULL, rows, width);
    int_twin_free(h, &token);
    twin_free(h, &inp);
    twin_free(h, &scale);
    return twins_error_free(h, &out, 1);
}

// d: rows, d, N
static double run_scatter_add_rows_backward(Harness *h, const int *d) {
    int rows = d[0], width = d[1], N = d[2];
    IntTwin token = int_twin_random(h, rows, -1, N);
    Twin dout = twin_random(h, (size_t)N * width, 1.0f), inp = twin_random(h, (size_t)rows * width, 1.0f);
    Twin scale = twin_random(h, rows, 1.0f);
    Twin grads[] = {twin_random(h, (size_t)rows * width, 1.0f), twin_random(h, rows, 1.0f)};
    FOR_EACH_SIDE(side)
        routing(h, side)->scatter_add_rows_backward(ON(grads[0], side), ON(grads[1], side),
                                                    ON(dout, side), ON(inp, side), ON(token, side),
                                                    ON(scale, side), rows, width);
    int_twin_free(h, &token);
    twin_free(h, &dout);
    twin_free(h, &inp);
    twin_free(h, &scale);
    return twins_error_free(h, grads, 2);
}

// d: N, E, S. A real Token Choice slot table: unique (token, expert) pairs.
static double run_slot_gate_backward(Harness *h, const int *d) {
    int N = d[0], E = d[1], S = d[2];
    IntTwin token = tc_slots(h, N, E, S);
    Twin dgate = twin_random(h, (size_t)E * S, 1.0f), dprobs = twin_random(h, (size_t)N * E, 1.0f);
    FOR_EACH_SIDE(side)
        routing(h, side)->slot_gate_backward(ON(dprobs, side), ON(dgate, side), ON(token, side), E, S);
    int_twin_free(h, &token);
    twin_free(h, &dgate);
    return twins_error_free(h, &dprobs, 1);
}

static const OpCase ROUTING_CASES[] = {
    {"group_argmax_onehot", "M,G,E,ties", {3, 5, 4, 1}, TOL_EXACT, run_group_argmax_onehot},
    {"group_argmax_onehot", "M,G,E,ties", {256, 32, 512, 1}, TOL_EXACT, run_group_argmax_onehot},
    {"group_argmax_onehot", "M,G,E,ties", {256, 32, 512, 0}, TOL_EXACT, run_group_argmax_onehot},
    {"ec_topk", "M,G,E,k,ties", {3, 5, 4, 2, 1}, TOL_EXACT, run_ec_topk},
    {"ec_topk", "M,G,E,k,ties", {128, 32, 32, 1, 1}, TOL_EXACT, run_ec_topk},
    {"ec_topk", "M,G,E,k,ties", {128, 32, 32, 1, 0}, TOL_EXACT, run_ec_topk},
    {"ec_topk", "M,G,E,k,ties", {64, 32, 8, 4, 1}, TOL_EXACT, run_ec_topk},
    {"ec_topk", "M,G,E,k,ties", {64, 32, 8, 32, 2}, TOL_EXACT, run_ec_topk},
    {"tc_route", "N,E,C,ties", {37, 5, 3, 1}, TOL_EXACT, run_tc_route},
    {"tc_route", "N,E,C,ties", {4096, 32, 160, 1}, TOL_EXACT, run_tc_route},
    {"tc_route", "N,E,C,ties", {65536, 32, 2560, 0}, TOL_EXACT, run_tc_route},
    {"tc_aux_loss", "N,E", {37, 5}, TOL_FP32, run_tc_aux_loss},
    {"tc_aux_loss", "N,E", {4096, 32}, TOL_FP32, run_tc_aux_loss},
    {"tc_aux_loss_backward", "N,E", {37, 5}, TOL_FP32, run_tc_aux_loss_backward},
    {"tc_aux_loss_backward", "N,E", {4096, 32}, TOL_FP32, run_tc_aux_loss_backward},
    {"gather_rows", "rows,d,N", {11, 7, 5}, TOL_EXACT, run_gather_rows},
    {"gather_rows", "rows,d,N", {5120, 512, 4096}, TOL_EXACT, run_gather_rows},
    {"scatter_add_rows", "rows,d,N,scaled", {11, 7, 5, 0}, TOL_FP32, run_scatter_add_rows},
    {"scatter_add_rows", "rows,d,N,scaled", {11, 7, 5, 1}, TOL_FP32, run_scatter_add_rows},
    {"scatter_add_rows", "rows,d,N,scaled", {5120, 512, 4096, 1}, TOL_FP32, run_scatter_add_rows},
    {"scatter_add_rows_backward", "rows,d,N", {11, 7, 5}, TOL_FP32, run_scatter_add_rows_backward},
    {"scatter_add_rows_backward", "rows,d,N", {5120, 512, 4096}, TOL_FP32, run_scatter_add_rows_backward},
    {"slot_gate_backward", "N,E,S", {37, 5, 3}, TOL_EXACT, run_slot_gate_backward},
    {"slot_gate_backward", "N,E,S", {4096, 32, 160}, TOL_EXACT, run_slot_gate_backward},
};

void run_routing_cases(Harness *h) {
    run_case_table(h, ROUTING_CASES, sizeof ROUTING_CASES / sizeof ROUTING_CASES[0]);
}
