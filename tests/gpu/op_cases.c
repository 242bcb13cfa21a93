// Every op of kernels/ops.h, CPU table against CUDA table. One function per op
// draws inputs as twins, runs the op on both sides and returns the worst error
// over its outputs; the case table lists the sizes each op runs at (small odd
// shapes that catch indexing slips, and the shapes of a real run).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.h"
#include "tests/gpu/harness.h"

// ---- dense algebra ------------------------------------------------------------

// d: N, C
static double run_bias_forward(Harness *h, const int *d) {
    Twin out = twin_random(h, (size_t)d[0] * d[1], 1.0f), bias = twin_random(h, d[1], 1.0f);
    FOR_EACH_SIDE(side) side_ops(h, side)->bias_forward(ON(out, side), ON(bias, side), d[0], d[1]);
    twin_free(h, &bias);
    return twins_error_free(h, &out, 1);
}

static double run_bias_backward(Harness *h, const int *d) {
    Twin dbias = twin_random(h, d[1], 1.0f), dout = twin_random(h, (size_t)d[0] * d[1], 1.0f);
    FOR_EACH_SIDE(side) side_ops(h, side)->bias_backward(ON(dbias, side), ON(dout, side), d[0], d[1]);
    twin_free(h, &dout);
    return twins_error_free(h, &dbias, 1);
}

// d: n
static double run_axpy(Harness *h, const int *d) {
    Twin y = twin_random(h, d[0], 1.0f), x = twin_random(h, d[0], 1.0f);
    FOR_EACH_SIDE(side) side_ops(h, side)->axpy(ON(y, side), -0.3f, ON(x, side), d[0]);
    twin_free(h, &x);
    return twins_error_free(h, &y, 1);
}

static double run_fill(Harness *h, const int *d) {
    Twin x = twin_random(h, d[0], 1.0f);
    FOR_EACH_SIDE(side) side_ops(h, side)->fill(ON(x, side), 0.125f, d[0]);
    return twins_error_free(h, &x, 1);
}

static double run_round_bf16(Harness *h, const int *d) {
    Twin x = twin_random(h, d[0], 3.0e4f);  // wide range: many exponents and ties
    FOR_EACH_SIDE(side) side_ops(h, side)->round_bf16(ON(x, side), d[0]);
    return twins_error_free(h, &x, 1);
}

// d: A, B, C
static double run_transpose01(Harness *h, const int *d) {
    size_t n = (size_t)d[0] * d[1] * d[2];
    Twin out = twin_random(h, n, 1.0f), inp = twin_random(h, n, 1.0f);
    FOR_EACH_SIDE(side) side_ops(h, side)->transpose01(ON(out, side), ON(inp, side), d[0], d[1], d[2]);
    twin_free(h, &inp);
    return twins_error_free(h, &out, 1);
}

// ---- transformer ops ----------------------------------------------------------

// d: B, T, C, V
static double run_encoder_forward(Harness *h, const int *d) {
    int B = d[0], T = d[1], C = d[2], V = d[3];
    IntTwin tokens = int_twin_random(h, (size_t)B * T, 0, V);
    Twin out = twin_random(h, (size_t)B * T * C, 1.0f);
    Twin wte = twin_random(h, (size_t)V * C, 1.0f), wpe = twin_random(h, (size_t)T * C, 1.0f);
    FOR_EACH_SIDE(side)
        side_ops(h, side)->encoder_forward(ON(out, side), ON(tokens, side), ON(wte, side),
                                           ON(wpe, side), B, T, C);
    int_twin_free(h, &tokens);
    twin_free(h, &wte);
    twin_free(h, &wpe);
    return twins_error_free(h, &out, 1);
}

// Small vocabularies make tokens repeat, which is what the scatter must handle.
static double run_encoder_backward(Harness *h, const int *d) {
    int B = d[0], T = d[1], C = d[2], V = d[3];
    IntTwin tokens = int_twin_random(h, (size_t)B * T, 0, V);
    Twin dout = twin_random(h, (size_t)B * T * C, 1.0f);
    Twin grads[] = {twin_random(h, (size_t)V * C, 1.0f), twin_random(h, (size_t)T * C, 1.0f)};
    FOR_EACH_SIDE(side)
        side_ops(h, side)->encoder_backward(ON(grads[0], side), ON(grads[1], side), ON(dout, side),
                                            ON(tokens, side), B, T, C);
    int_twin_free(h, &tokens);
    twin_free(h, &dout);
    return twins_error_free(h, grads, 2);
}

// d: N, C. Inputs with a non-zero mean, as residual streams have.
static double run_layernorm_forward(Harness *h, const int *d) {
    int N = d[0], C = d[1];
    Twin inp = twin_uniform(h, (size_t)N * C, -1.0f, 3.0f);
    Twin w = twin_random(h, C, 1.0f), b = twin_random(h, C, 1.0f);
    Twin outs[] = {twin_random(h, (size_t)N * C, 1.0f), twin_random(h, N, 1.0f),
                   twin_random(h, N, 1.0f)};  // out, mean, rstd
    FOR_EACH_SIDE(side)
        side_ops(h, side)->layernorm_forward(ON(outs[0], side), ON(outs[1], side), ON(outs[2], side),
                                             ON(inp, side), ON(w, side), ON(b, side), N, C);
    twin_free(h, &inp);
    twin_free(h, &w);
    twin_free(h, &b);
    return twins_error_free(h, outs, 3);
}

static double run_layernorm_backward(Harness *h, const int *d) {
    int N = d[0], C = d[1];
    Twin inp = twin_uniform(h, (size_t)N * C, -1.0f, 3.0f), w = twin_random(h, C, 1.0f);
    Twin b = twin_random(h, C, 1.0f), out = twin_random(h, (size_t)N * C, 1.0f);
    Twin mean = twin_random(h, N, 1.0f), rstd = twin_random(h, N, 1.0f);
    Twin dout = twin_random(h, (size_t)N * C, 1.0f);
    // mean and rstd from the CPU forward, the same on both sides
    h->cpu->layernorm_forward(out.cpu, mean.cpu, rstd.cpu, inp.cpu, w.cpu, b.cpu, N, C);
    h->gpu->to_device(mean.gpu, mean.cpu, (size_t)N * sizeof(float));
    h->gpu->to_device(rstd.gpu, rstd.cpu, (size_t)N * sizeof(float));
    Twin grads[] = {twin_random(h, (size_t)N * C, 1.0f), twin_random(h, C, 1.0f),
                    twin_random(h, C, 1.0f)};  // dinp, dweight, dbias
    FOR_EACH_SIDE(side)
        side_ops(h, side)->layernorm_backward(ON(grads[0], side), ON(grads[1], side),
                                              ON(grads[2], side), ON(dout, side), ON(inp, side),
                                              ON(w, side), ON(mean, side), ON(rstd, side), N, C);
    Twin inputs[] = {inp, w, b, out, mean, rstd, dout};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) twin_free(h, &inputs[i]);
    return twins_error_free(h, grads, 3);
}

// d: n
static double run_relu_forward(Harness *h, const int *d) {
    Twin out = twin_random(h, d[0], 1.0f), inp = twin_random(h, d[0], 1.0f);
    FOR_EACH_SIDE(side) side_ops(h, side)->relu_forward(ON(out, side), ON(inp, side), d[0]);
    twin_free(h, &inp);
    return twins_error_free(h, &out, 1);
}

static double run_relu_backward(Harness *h, const int *d) {
    Twin dinp = twin_random(h, d[0], 1.0f), dout = twin_random(h, d[0], 1.0f);
    Twin out = twin_uniform(h, d[0], -1.0f, 1.0f);
    h->cpu->relu_forward(out.cpu, out.cpu, d[0]);  // a real ReLU output: half zeros
    h->gpu->to_device(out.gpu, out.cpu, (size_t)d[0] * sizeof(float));
    FOR_EACH_SIDE(side) side_ops(h, side)->relu_backward(ON(dinp, side), ON(dout, side), ON(out, side), d[0]);
    twin_free(h, &dout);
    twin_free(h, &out);
    return twins_error_free(h, &dinp, 1);
}

// d: B, T, C, NH, bf16
static double run_attention_forward(Harness *h, const int *d) {
    int B = d[0], T = d[1], C = d[2], NH = d[3], bf16 = d[4];
    Twin qkv = twin_random(h, (size_t)B * T * 3 * C, 1.0f);
    Twin outs[] = {twin_random(h, (size_t)B * T * C, 1.0f),
                   twin_random(h, (size_t)B * NH * T * T, 1.0f)};  // out, att
    FOR_EACH_SIDE(side)
        side_ops(h, side)->attention_forward(ON(outs[0], side), ON(outs[1], side), ON(qkv, side),
                                             B, T, C, NH, bf16);
    twin_free(h, &qkv);
    return twins_error_free(h, outs, 2);
}

static double run_attention_backward(Harness *h, const int *d) {
    int B = d[0], T = d[1], C = d[2], NH = d[3], bf16 = d[4];
    Twin qkv = twin_random(h, (size_t)B * T * 3 * C, 1.0f);
    Twin out = twin_random(h, (size_t)B * T * C, 1.0f);
    Twin att = twin_random(h, (size_t)B * NH * T * T, 1.0f);
    // att from the CPU forward (causal, zeros above the diagonal) on both sides
    h->cpu->attention_forward(out.cpu, att.cpu, qkv.cpu, B, T, C, NH, bf16);
    h->gpu->to_device(att.gpu, att.cpu, att.n * sizeof(float));
    Twin dout = twin_random(h, (size_t)B * T * C, 1.0f);
    Twin dqkv = twin_random(h, (size_t)B * T * 3 * C, 1.0f);
    FOR_EACH_SIDE(side)
        side_ops(h, side)->attention_backward(ON(dqkv, side), ON(dout, side), ON(qkv, side),
                                              ON(att, side), B, T, C, NH, bf16);
    Twin inputs[] = {qkv, out, att, dout};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) twin_free(h, &inputs[i]);
    return twins_error_free(h, &dqkv, 1);
}

#define SOFTMAX_SCALE 0.7f  // not 1, so a dropped scale shows

// d: outer, n, inner
static double run_softmax_forward(Harness *h, const int *d) {
    size_t total = (size_t)d[0] * d[1] * d[2];
    Twin out = twin_random(h, total, 1.0f), inp = twin_random(h, total, 4.0f);
    FOR_EACH_SIDE(side)
        side_ops(h, side)->softmax_forward(ON(out, side), ON(inp, side), d[0], d[1], d[2], SOFTMAX_SCALE);
    twin_free(h, &inp);
    return twins_error_free(h, &out, 1);
}

static double run_softmax_backward(Harness *h, const int *d) {
    size_t total = (size_t)d[0] * d[1] * d[2];
    Twin out = twin_random(h, total, 4.0f), dout = twin_random(h, total, 1.0f);
    h->cpu->softmax_forward(out.cpu, out.cpu, d[0], d[1], d[2], SOFTMAX_SCALE);
    h->gpu->to_device(out.gpu, out.cpu, total * sizeof(float));
    Twin dinp = twin_random(h, total, 1.0f);
    FOR_EACH_SIDE(side)
        side_ops(h, side)->softmax_backward(ON(dinp, side), ON(dout, side), ON(out, side), d[0],
                                            d[1], d[2], SOFTMAX_SCALE);
    twin_free(h, &out);
    twin_free(h, &dout);
    return twins_error_free(h, &dinp, 1);
}

// d: N, V, with_gradient. Every 7th target is -1 (an ignored position).
static double run_softmax_xent(Harness *h, const int *d) {
    int N = d[0], V = d[1];
    int *targets = mallocCheck((size_t)N * sizeof(int));
    for (int i = 0; i < N; i++) targets[i] = i % 7 == 3 ? -1 : (int)(harness_next(h) % (uint64_t)V);
    IntTwin tg = int_twin_from_host(h, targets, N);
    free(targets);
    float dscale = d[2] ? 1.0f / N : 0.0f;
    Twin outs[] = {twin_random(h, N, 1.0f), twin_random(h, (size_t)N * V, 8.0f)};  // losses, logits
    FOR_EACH_SIDE(side)
        side_ops(h, side)->softmax_xent(ON(outs[0], side), ON(outs[1], side), ON(tg, side), N, V, dscale);
    int_twin_free(h, &tg);
    return twins_error_free(h, outs, 2);
}

// ---- optimizer ------------------------------------------------------------------

// Host values: the relative difference of the two doubles. d: n
static double relative_difference(double cpu, double gpu) {
    return cpu != 0.0 ? fabs(cpu - gpu) / fabs(cpu) : fabs(gpu);
}

static double run_sumsq(Harness *h, const int *d) {
    Twin x = twin_random(h, d[0], 1.0f);
    double err = relative_difference(h->cpu->sumsq(x.cpu, d[0]), h->gpu->sumsq(x.gpu, d[0]));
    twin_free(h, &x);
    return err;
}

static double run_sum(Harness *h, const int *d) {
    Twin x = twin_uniform(h, d[0], -0.5f, 1.0f);  // positive mean: no total cancellation
    double err = relative_difference(h->cpu->sum(x.cpu, d[0]), h->gpu->sum(x.gpu, d[0]));
    twin_free(h, &x);
    return err;
}

// d: n, t, bf16_state
static double run_adamw(Harness *h, const int *d) {
    size_t n = (size_t)d[0];
    Twin grads = twin_random(h, n, 1.0f);
    Twin state[] = {twin_random(h, n, 1.0f), twin_random(h, n, 0.1f),
                    twin_uniform(h, n, 0.0f, 0.01f)};  // params, m, v (v >= 0)
    FOR_EACH_SIDE(side)
        side_ops(h, side)->adamw(ON(state[0], side), ON(grads, side), ON(state[1], side),
                                 ON(state[2], side), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, d[1],
                                 0.5f, d[2]);
    twin_free(h, &grads);
    return twins_error_free(h, state, 3);
}

// Tolerances beyond TOL_FP32, each with its reason:
// column sums over thousands of rows, added in a different order on each side
#define TOL_COLUMN_SUM 2e-5

static const OpCase OP_CASES[] = {
    {"bias_forward", "N,C", {7, 13}, TOL_FP32, run_bias_forward},
    {"bias_forward", "N,C", {4096, 2048}, TOL_FP32, run_bias_forward},
    {"bias_backward", "N,C", {7, 13}, TOL_FP32, run_bias_backward},
    {"bias_backward", "N,C", {4096, 2048}, TOL_COLUMN_SUM, run_bias_backward},
    {"axpy", "n", {5}, TOL_FP32, run_axpy},
    {"axpy", "n", {1000003}, TOL_FP32, run_axpy},
    {"fill", "n", {1000003}, TOL_EXACT, run_fill},
    {"round_bf16", "n", {1000003}, TOL_EXACT, run_round_bf16},
    {"transpose01", "A,B,C", {3, 5, 7}, TOL_EXACT, run_transpose01},
    {"transpose01", "A,B,C", {8, 256, 64}, TOL_EXACT, run_transpose01},
    {"encoder_forward", "B,T,C,V", {3, 5, 7, 11}, TOL_EXACT, run_encoder_forward},
    {"encoder_forward", "B,T,C,V", {4, 256, 512, 50257}, TOL_EXACT, run_encoder_forward},
    {"encoder_backward", "B,T,C,V", {3, 5, 7, 11}, TOL_FP32, run_encoder_backward},
    {"encoder_backward", "B,T,C,V", {4, 256, 512, 50257}, TOL_FP32, run_encoder_backward},
    {"encoder_backward", "B,T,C,V", {64, 256, 64, 50}, TOL_FP32, run_encoder_backward},
    {"layernorm_forward", "N,C", {5, 37}, TOL_FP32, run_layernorm_forward},
    {"layernorm_forward", "N,C", {4096, 512}, TOL_FP32, run_layernorm_forward},
    {"layernorm_forward", "N,C", {64, 768}, TOL_FP32, run_layernorm_forward},
    {"layernorm_backward", "N,C", {5, 37}, TOL_FP32, run_layernorm_backward},
    {"layernorm_backward", "N,C", {4096, 512}, TOL_COLUMN_SUM, run_layernorm_backward},
    {"layernorm_backward", "N,C", {64, 768}, TOL_FP32, run_layernorm_backward},
    {"relu_forward", "n", {1000003}, TOL_EXACT, run_relu_forward},
    {"relu_backward", "n", {1000003}, TOL_EXACT, run_relu_backward},
    {"attention_forward", "B,T,C,NH,bf16", {2, 7, 12, 3, 0}, TOL_FP32, run_attention_forward},
    {"attention_forward", "B,T,C,NH,bf16", {4, 256, 512, 8, 0}, TOL_FP32, run_attention_forward},
    {"attention_forward", "B,T,C,NH,bf16", {2, 7, 12, 3, 1}, TOL_BF16, run_attention_forward},
    {"attention_forward", "B,T,C,NH,bf16", {4, 256, 512, 8, 1}, TOL_BF16, run_attention_forward},
    {"attention_backward", "B,T,C,NH,bf16", {2, 7, 12, 3, 0}, TOL_FP32, run_attention_backward},
    {"attention_backward", "B,T,C,NH,bf16", {4, 256, 512, 8, 0}, TOL_FP32, run_attention_backward},
    {"attention_backward", "B,T,C,NH,bf16", {2, 7, 12, 3, 1}, TOL_BF16, run_attention_backward},
    {"attention_backward", "B,T,C,NH,bf16", {4, 256, 512, 8, 1}, TOL_BF16, run_attention_backward},
    {"softmax_forward", "outer,n,inner", {3, 5, 7}, TOL_FP32, run_softmax_forward},
    {"softmax_forward", "outer,n,inner", {64, 32, 512}, TOL_FP32, run_softmax_forward},
    {"softmax_forward", "outer,n,inner", {4096, 32, 1}, TOL_FP32, run_softmax_forward},
    {"softmax_backward", "outer,n,inner", {3, 5, 7}, TOL_FP32, run_softmax_backward},
    {"softmax_backward", "outer,n,inner", {64, 32, 512}, TOL_FP32, run_softmax_backward},
    {"softmax_backward", "outer,n,inner", {4096, 32, 1}, TOL_FP32, run_softmax_backward},
    {"softmax_xent", "N,V,grad", {5, 11, 1}, TOL_FP32, run_softmax_xent},
    {"softmax_xent", "N,V,grad", {4096, 50257, 1}, TOL_FP32, run_softmax_xent},
    {"softmax_xent", "N,V,grad", {4096, 50257, 0}, TOL_FP32, run_softmax_xent},
    {"sumsq", "n", {1}, TOL_FP32, run_sumsq},
    {"sumsq", "n", {10000019}, TOL_FP32, run_sumsq},
    {"sum", "n", {1000}, TOL_FP32, run_sum},
    {"sum", "n", {10000019}, TOL_FP32, run_sum},
    {"adamw", "n,t,bf16", {1000003, 1, 0}, TOL_FP32, run_adamw},
    {"adamw", "n,t,bf16", {1000003, 7, 0}, TOL_FP32, run_adamw},
    {"adamw", "n,t,bf16", {1000003, 7, 1}, TOL_BF16_STATE, run_adamw},
};

void run_op_cases(Harness *h) { run_case_table(h, OP_CASES, sizeof OP_CASES / sizeof OP_CASES[0]); }

// ---- memory ops -------------------------------------------------------------------

// 1 when any of the n bytes at host is non-zero.
static double any_nonzero(const unsigned char *host, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (host[i]) return 1.0;
    return 0.0;
}

void run_memory_checks(Harness *h) {
    const Ops *gpu = h->gpu;
    enum { N = 1000003 };
    char size[48];
    snprintf(size, sizeof size, "n=%d", N);

    // Dirty a block and free it first, so the allocation likely reuses that memory
    // rather than fresh pages the driver happens to have zeroed.
    float *dirty = gpu->alloc(N * sizeof(float));
    gpu->fill(dirty, 1.0f, N);
    gpu->free(dirty);
    float *p = gpu->alloc(N * sizeof(float));
    float *host = mallocCheck(N * sizeof(float));
    gpu->to_host(host, p, N * sizeof(float));
    harness_report(h, "alloc is zero-filled", size, any_nonzero((unsigned char *)host, N * sizeof(float)), TOL_EXACT);

    // to_device -> copy -> to_host must give back the same bits
    Twin src = twin_random(h, N, 1.0f);
    gpu->copy(p, src.gpu, N * sizeof(float));
    gpu->synchronize();
    gpu->to_host(host, p, N * sizeof(float));
    harness_report(h, "to_device, copy, to_host", size,
                   memcmp(host, src.cpu, N * sizeof(float)) ? 1.0 : 0.0, TOL_EXACT);

    gpu->zero(p, N * sizeof(float));
    gpu->to_host(host, p, N * sizeof(float));
    harness_report(h, "zero", size, any_nonzero((unsigned char *)host, N * sizeof(float)), TOL_EXACT);
    twin_free(h, &src);
    free(host);

    const char *name = gpu->device_name();
    harness_report(h, "device_name", name ? name : "(null)", name && *name ? 0.0 : 1.0, TOL_EXACT);
    gpu->free(p);
    // memory_available must see an allocation of 256 MiB disappear (a CPU stand-in
    // reports host RAM, which other processes move: nothing to check there)
    if (!strcmp(gpu->name, "cpu")) return;
    size_t before = gpu->memory_available(), big = (size_t)256 << 20;
    void *q = gpu->alloc(big);
    size_t after = gpu->memory_available();
    gpu->free(q);
    snprintf(size, sizeof size, "%.1f GiB free", before / (double)(1u << 30));
    harness_report(h, "memory_available drops by alloc", size,
                   before >= big && after <= before - big ? 0.0 : 1.0, TOL_EXACT);
}
