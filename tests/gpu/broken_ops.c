// Deliberately broken CPU tables: proof, on a machine without a GPU, that every
// row of the harness can fail. Each entry perturbs one op of the CPU table, by
// scaling what it writes by 1+1e-3 (above every tolerance but far below what
// would look broken at a glance), and `test_gpu --break OP` (and
// tests/test_gpu_harness.c) checks that exactly the rows of that op fail.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.h"
#include "kernels/gemm.h"
#include "kernels/ops_cpu.h"
#include "tests/gpu/harness.h"

#define PERTURB (1.0f + 1e-3f)

static void scale(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= PERTURB;
}

// A perturbed copy of a const input (n), for ops whose output size is not known.
static float *scaled_copy(const float *x, size_t n) {
    float *y = mallocCheck((n ? n : 1) * sizeof(float));
    memcpy(y, x, n * sizeof(float));
    scale(y, n);
    return y;
}

// ---- dense algebra ---------------------------------------------------------------

static void gemm_scaled(const GemmArgs *g) {
    gemm_cpu(g);
    int batch = g->batch ? g->batch : 1, ldc = g->ldc ? g->ldc : g->N;
    for (int b = 0; b < batch; b++)
        for (int i = 0; i < g->M; i++) scale(g->C + b * g->strideC + (size_t)i * ldc, g->N);
}

// The product in fp32 although bf16 operands were asked for.
static void gemm_fp32(const GemmArgs *g) {
    GemmArgs fp32 = *g;
    fp32.bf16 = 0;
    gemm_cpu(&fp32);
}

// Elements one batch of an operand spans: (rows-1)*ld + cols, batch times.
static size_t span(int rows, int cols, int ld, long stride, int batch) {
    return rows && cols ? (size_t)(batch - 1) * stride + (size_t)(rows - 1) * ld + cols : 0;
}

static float *truncated(const float *x, size_t n) {
    float *y = mallocCheck((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        bits &= 0xffff0000u;
        memcpy(&y[i], &bits, sizeof bits);
    }
    return y;
}

// bf16 operands truncated (round towards zero) instead of rounded to nearest.
static void gemm_truncated(const GemmArgs *g) {
    if (!g->bf16) return gemm_cpu(g);
    int batch = g->batch ? g->batch : 1;
    int a_rows = g->transA ? g->K : g->M, a_cols = g->transA ? g->M : g->K;
    int b_rows = g->transB ? g->N : g->K, b_cols = g->transB ? g->K : g->N;
    GemmArgs t = *g;
    float *A = truncated(g->A, span(a_rows, a_cols, g->lda ? g->lda : a_cols, g->strideA, batch));
    float *B = truncated(g->B, span(b_rows, b_cols, g->ldb ? g->ldb : b_cols, g->strideB, batch));
    t.A = A, t.B = B, t.bf16 = 0;
    gemm_cpu(&t);
    free(A);
    free(B);
}

static void bias_forward_scaled(float *out, const float *bias, int N, int C) {
    bias_forward_cpu(out, bias, N, C);
    scale(out, (size_t)N * C);
}
static void bias_backward_scaled(float *dbias, const float *dout, int N, int C) {
    bias_backward_cpu(dbias, dout, N, C);
    scale(dbias, C);
}
static void axpy_scaled(float *y, float a, const float *x, size_t n) {
    axpy_cpu(y, a, x, n);
    scale(y, n);
}
static void fill_scaled(float *x, float value, size_t n) { fill_cpu(x, value * PERTURB, n); }
static void transpose01_scaled(float *out, const float *inp, int A, int B, int C) {
    transpose01_cpu(out, inp, A, B, C);
    scale(out, (size_t)A * B * C);
}
static void round_bf16_scaled(float *x, size_t n) {
    round_bf16_cpu(x, n);
    scale(x, n);
}

// ---- transformer ops ---------------------------------------------------------------

static void encoder_forward_scaled(float *out, const int *tokens, const float *wte,
                                   const float *wpe, int B, int T, int C) {
    encoder_forward_cpu(out, tokens, wte, wpe, B, T, C);
    scale(out, (size_t)B * T * C);
}
static void encoder_backward_scaled(float *dwte, float *dwpe, const float *dout,
                                    const int *tokens, int B, int T, int C) {
    encoder_backward_cpu(dwte, dwpe, dout, tokens, B, T, C);
    scale(dwpe, (size_t)T * C);
}
static void layernorm_forward_scaled(float *out, float *mean, float *rstd, const float *inp,
                                     const float *weight, const float *bias, int N, int C) {
    layernorm_forward_cpu(out, mean, rstd, inp, weight, bias, N, C);
    scale(out, (size_t)N * C);
}
static void layernorm_backward_scaled(float *dinp, float *dweight, float *dbias,
                                      const float *dout, const float *inp, const float *weight,
                                      const float *mean, const float *rstd, int N, int C) {
    layernorm_backward_cpu(dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C);
    scale(dinp, (size_t)N * C);
}
static void relu_forward_scaled(float *out, const float *inp, size_t n) {
    relu_forward_cpu(out, inp, n);
    scale(out, n);
}
static void relu_backward_scaled(float *dinp, const float *dout, const float *out, size_t n) {
    relu_backward_cpu(dinp, dout, out, n);
    scale(dinp, n);
}
static void attention_forward_scaled(float *out, float *att, const float *qkv, int B, int T,
                                     int C, int NH, int bf16) {
    attention_forward_cpu(out, att, qkv, B, T, C, NH, bf16);
    scale(out, (size_t)B * T * C);
}
static void attention_backward_scaled(float *dqkv, const float *dout, const float *qkv,
                                      const float *att, int B, int T, int C, int NH, int bf16) {
    attention_backward_cpu(dqkv, dout, qkv, att, B, T, C, NH, bf16);
    scale(dqkv, (size_t)B * T * 3 * C);
}
static void softmax_forward_scaled(float *out, const float *inp, int outer, int n, int inner,
                                   float s) {
    softmax_forward_cpu(out, inp, outer, n, inner, s);
    scale(out, (size_t)outer * n * inner);
}
static void softmax_backward_scaled(float *dinp, const float *dout, const float *out, int outer,
                                    int n, int inner, float s) {
    softmax_backward_cpu(dinp, dout, out, outer, n, inner, s);
    scale(dinp, (size_t)outer * n * inner);
}
static void softmax_xent_scaled(float *losses, float *logits, const int *targets, int N, int V,
                                float dscale) {
    softmax_xent_cpu(losses, logits, targets, N, V, dscale);
    scale(losses, N);
}
static double sumsq_scaled(const float *x, size_t n) { return sumsq_cpu(x, n) * PERTURB; }
static double sum_scaled(const float *x, size_t n) { return sum_cpu(x, n) * PERTURB; }
static void adamw_scaled(float *params, const float *grads, float *m, float *v, size_t n,
                         float lr, float beta1, float beta2, float eps, float weight_decay, int t,
                         float grad_scale, int bf16_state) {
    adamw_cpu(params, grads, m, v, n, lr, beta1, beta2, eps, weight_decay, t, grad_scale,
              bf16_state);
    scale(params, n);
}

// ---- routing ------------------------------------------------------------------------

static const struct RoutingOps *const R = &routing_ops_cpu;

static void group_argmax_onehot_scaled(float *w, const float *logits, int M, int G, int E) {
    R->group_argmax_onehot(w, logits, M, G, E);
    scale(w, (size_t)M * G * E);
}
static void ec_topk_scaled(int *slot_token, float *slot_gate, const float *probs, int M, int G,
                           int E, int k) {
    R->ec_topk(slot_token, slot_gate, probs, M, G, E, k);
    scale(slot_gate, (size_t)E * M * k);
}
static void tc_route_scaled(int *slot_token, float *slot_gate, int *counts, const float *probs,
                            int N, int E, int C) {
    R->tc_route(slot_token, slot_gate, counts, probs, N, E, C);
    scale(slot_gate, (size_t)E * C);
}
static void tc_aux_loss_scaled(float *aux, const float *probs, const int *counts, int N, int E) {
    R->tc_aux_loss(aux, probs, counts, N, E);
    scale(aux, 1);
}
static void tc_aux_loss_backward_scaled(float *dprobs, const int *counts, int N, int E,
                                        float s) {
    R->tc_aux_loss_backward(dprobs, counts, N, E, s);
    scale(dprobs, (size_t)N * E);
}
static void gather_rows_scaled(float *out, const float *inp, const int *slot_token, int rows,
                               int d) {
    R->gather_rows(out, inp, slot_token, rows, d);
    scale(out, (size_t)rows * d);
}
static void scatter_add_rows_scaled(float *out, const float *inp, const int *slot_token,
                                    const float *s, int rows, int d) {
    float *scaled = scaled_copy(inp, (size_t)rows * d);
    R->scatter_add_rows(out, scaled, slot_token, s, rows, d);
    free(scaled);
}
static void scatter_add_rows_backward_scaled(float *dinp, float *dscale, const float *dout,
                                             const float *inp, const int *slot_token,
                                             const float *s, int rows, int d) {
    R->scatter_add_rows_backward(dinp, dscale, dout, inp, slot_token, s, rows, d);
    scale(dinp, (size_t)rows * d);
}
static void slot_gate_backward_scaled(float *dprobs, const float *dgate, const int *slot_token,
                                      int E, int S) {
    float *scaled = scaled_copy(dgate, (size_t)E * S);
    R->slot_gate_backward(dprobs, scaled, slot_token, E, S);
    free(scaled);
}

// ---- the table of breaks ----------------------------------------------------------

typedef struct {
    const char *name;  // --break NAME
    const char *op;    // the rows that must fail: check == op or starting "op "
    const char *only;  // ...and, when set, whose size label contains this
    void (*install)(Ops *ops, struct RoutingOps *routing);
} BrokenOp;

#define BREAK_OP(slot)                                                         \
    static void break_##slot(Ops *ops, struct RoutingOps *routing) {           \
        (void)routing;                                                         \
        ops->slot = slot##_scaled;                                             \
    }
#define BREAK_ROUTING_OP(slot)                                                 \
    static void break_##slot(Ops *ops, struct RoutingOps *routing) {           \
        (void)ops;                                                             \
        routing->slot = slot##_scaled;                                         \
    }
BREAK_OP(gemm) BREAK_OP(bias_forward) BREAK_OP(bias_backward) BREAK_OP(axpy) BREAK_OP(fill)
BREAK_OP(transpose01) BREAK_OP(round_bf16) BREAK_OP(encoder_forward) BREAK_OP(encoder_backward)
BREAK_OP(layernorm_forward) BREAK_OP(layernorm_backward) BREAK_OP(relu_forward)
BREAK_OP(relu_backward) BREAK_OP(attention_forward) BREAK_OP(attention_backward)
BREAK_OP(softmax_forward) BREAK_OP(softmax_backward) BREAK_OP(softmax_xent) BREAK_OP(sumsq)
BREAK_OP(sum) BREAK_OP(adamw)
ROUTING_OP_SLOTS(BREAK_ROUTING_OP)

static void break_gemm_fp32(Ops *ops, struct RoutingOps *routing) {
    (void)routing;
    ops->gemm = gemm_fp32;
}
static void break_gemm_trunc(Ops *ops, struct RoutingOps *routing) {
    (void)routing;
    ops->gemm = gemm_truncated;
}

#define ENTRY(slot) {#slot, #slot, NULL, break_##slot},
static const BrokenOp BROKEN[] = {
    ENTRY(gemm) ENTRY(bias_forward) ENTRY(bias_backward) ENTRY(axpy) ENTRY(fill)
    ENTRY(transpose01) ENTRY(round_bf16) ENTRY(encoder_forward) ENTRY(encoder_backward)
    ENTRY(layernorm_forward) ENTRY(layernorm_backward) ENTRY(relu_forward) ENTRY(relu_backward)
    ENTRY(attention_forward) ENTRY(attention_backward) ENTRY(softmax_forward)
    ENTRY(softmax_backward) ENTRY(softmax_xent) ENTRY(sumsq) ENTRY(sum) ENTRY(adamw)
    ROUTING_OP_SLOTS(ENTRY)
    {"gemm-fp32", "gemm", "bf16=1", break_gemm_fp32},
    {"gemm-trunc", "gemm", "bf16=1", break_gemm_trunc},
};
enum { N_BROKEN = sizeof BROKEN / sizeof BROKEN[0] };

int broken_op_count(void) { return N_BROKEN; }
const char *broken_op_name(int i) { return i >= 0 && i < N_BROKEN ? BROKEN[i].name : NULL; }

static const BrokenOp *find(const char *name) {
    for (int i = 0; i < N_BROKEN; i++)
        if (!strcmp(BROKEN[i].name, name)) return &BROKEN[i];
    return NULL;
}

const Ops *broken_ops(const char *name) {
    static Ops ops;
    static struct RoutingOps routing;
    const BrokenOp *b = find(name);
    if (!b) return NULL;
    ops = ops_cpu;
    routing = routing_ops_cpu;
    ops.routing = &routing;
    b->install(&ops, &routing);
    return &ops;
}

int broken_op_affects(const char *name, const HarnessRow *row) {
    const BrokenOp *b = find(name);
    if (!b) return 0;
    size_t len = strlen(b->op);
    int same_op = !strncmp(row->check, b->op, len) && (row->check[len] == '\0' || row->check[len] == ' ');
    return same_op && (!b->only || strstr(row->size, b->only));
}
