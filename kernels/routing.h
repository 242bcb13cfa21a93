// MoE routing ops: the few index-shuffling kernels that Mixture of Tokens, Expert
// Choice and Token Choice need besides GEMMs, softmaxes and ReLU (kernels/ops.h).
//
// Each op has a plain-C reference (kernels/routing.c, `routing_ops_cpu`) and a CUDA
// twin (kernels/cuda/routing.cu, `routing_ops_cuda`); model code reaches them
// through `ops->routing`. The conventions of kernels/ops.h hold: pointers are on the
// table's device, row-major, no host synchronisation, forward ops overwrite and
// *_backward ops ACCUMULATE (+=) into their gradients.
//
// Shared vocabulary:
//   N  tokens, E experts, d model width.
//   probs (N,E)  router probabilities (softmax over E) or MoT logits, one row per
//                token in the layer's own token order.
//   Groups (MoT, EC): the token rows are viewed as (M,G,...): group g holds rows
//                g*G .. g*G+G-1 (the layer arranges same-position tokens there).
//   Slots: every expert owns S slots; slot (e,s) is flat index e*S+s.
//                slot_token (E,S) int: the token row held by the slot, or -1 when
//                the slot is empty; slot_gate (E,S): the router probability of that
//                token for that expert (0 for an empty slot). A token occupies at
//                most one slot of a given expert (so (token,e) pairs never collide)
//                but may sit in slots of several experts (EC).
//   Ties are always broken towards the LOWER index (lower row of the group for MoT
//   and EC, lower expert for TC), so CPU and CUDA pick identical tokens.
#pragma once

struct RoutingOps {
    // ---- Mixture of Tokens --------------------------------------------------
    // Discrete (eval-time) MoT routing. logits, w (M,G,E): for every group g and
    // expert e, w[(g*G+i)*E+e] = 1 for the row i with the largest logit of the
    // group (first one on ties), 0 for every other row. Logits may be -INFINITY
    // (padding rows); at least one row per group is finite. Overwrites w.
    void (*group_argmax_onehot)(float *w, const float *logits, int M, int G, int E);

    // ---- Expert Choice ------------------------------------------------------
    // probs (M,G,E); slot_token, slot_gate (E,M,k), i.e. S = M*k slots per expert.
    // For every group g and expert e, the k rows of the group with the largest
    // probs[(g*G+i)*E+e], in descending order of probability (ties: lower i
    // first), go to slots (e,g,0..k-1): slot_token = g*G+i (the global token
    // row), slot_gate = that probability. Requires 1 <= k <= G. Overwrites.
    void (*ec_topk)(int *slot_token, float *slot_gate, const float *probs, int M, int G,
                    int E, int k);

    // ---- Token Choice (Switch) ----------------------------------------------
    // probs (N,E); slot_token, slot_gate (E,C); counts (E) int.
    // Each token n goes to expert e(n) = argmax_e probs[n*E+e] (ties: lower e).
    // counts[e] = number of tokens choosing e (before dropping). The tokens of
    // expert e, taken in ascending n, fill slots (e,0), (e,1), ...; those past
    // capacity C are dropped (in no slot). Filled slots: slot_token = n,
    // slot_gate = probs[n*E+e]; the rest: -1 and 0. Overwrites all three.
    void (*tc_route)(int *slot_token, float *slot_gate, int *counts, const float *probs,
                     int N, int E, int C);
    // Load-balancing loss of probs (N,E) and counts (E) into aux (1):
    //   aux[0] = E * sum_e mean_n(probs[n*E+e]) * counts[e] / N.  Overwrites.
    void (*tc_aux_loss)(float *aux, const float *probs, const int *counts, int N, int E);
    // Its gradient w.r.t. probs (counts are constants), times scale:
    //   dprobs[n*E+e] += scale * E * counts[e] / (N*N).
    void (*tc_aux_loss_backward)(float *dprobs, const int *counts, int N, int E,
                                 float scale);

    // ---- slots <-> tokens (EC and TC) ---------------------------------------
    // out (E*S,d) row r = inp (N,d) row slot_token[r]; a zero row where
    // slot_token[r] < 0. Overwrites out.
    void (*gather_rows)(float *out, const float *inp, const int *slot_token, int rows,
                        int d);
    // out (N,d) row slot_token[r] += scale[r] * inp (E*S,d) row r, for every r with
    // slot_token[r] >= 0; scale == NULL means 1. Rows of out may receive several
    // slots (EC); any summation order is acceptable. Accumulates into out. Serves
    // both the gated combine (forward) and the backward of gather_rows.
    void (*scatter_add_rows)(float *out, const float *inp, const int *slot_token,
                             const float *scale, int rows, int d);
    // Backward of scatter_add_rows with a scale, for every r with slot_token[r] >= 0:
    //   dinp (E*S,d) row r += scale[r] * dout (N,d) row slot_token[r]
    //   dscale[r]          += dot(dout row slot_token[r], inp row r)
    // Accumulates into dinp and dscale.
    void (*scatter_add_rows_backward)(float *dinp, float *dscale, const float *dout,
                                      const float *inp, const int *slot_token,
                                      const float *scale, int rows, int d);
    // Backward of the slot gates into the router probabilities: for every filled
    // slot (e,s), dprobs (N,E)[slot_token[e*S+s]*E + e] += dgate (E,S)[e*S+s].
    // (token,e) pairs are unique, so this never races. Accumulates into dprobs.
    void (*slot_gate_backward)(float *dprobs, const float *dgate, const int *slot_token,
                               int E, int S);
};

// Every slot of RoutingOps in declaration order; both tables are built from it
// (`.slot = slot`), as OPS_FUNCTION_SLOTS is for Ops (kernels/ops.h).
#define ROUTING_OP_SLOTS(X)                                                          \
    X(group_argmax_onehot) X(ec_topk) X(tc_route) X(tc_aux_loss) X(tc_aux_loss_backward) \
    X(gather_rows) X(scatter_add_rows) X(scatter_add_rows_backward) X(slot_gate_backward)

extern const struct RoutingOps routing_ops_cpu, routing_ops_cuda;
