// The CPU reference kernels other than gemm and attention: every backward op
// against central differences of its forward op (and accumulating, +=), forward
// ops against direct formulas, the optimizer step against its closed form.
#include "kernels/common.h"
#include "kernels/fast_exp.h"
#include "kernels/ops_cpu.h"
#include "tests/testutil.h"

static float *random_floats(size_t n, float scale, uint64_t seed) {
    float *x = malloc(n * sizeof(float));
    test_fill_uniform(x, n, scale, seed);
    return x;
}

static float *copy_floats(const float *x, size_t n) {
    float *y = malloc(n * sizeof(float));
    memcpy(y, x, n * sizeof(float));
    return y;
}

// Runs `backward` (which adds into grad (n)) on a zeroed buffer, then again; the
// second call must double the first. Leaves the single-call gradient in grad.
typedef void (*backward_fn)(void *ctx);
static void check_accumulates(backward_fn backward, void *ctx, float **grads, const size_t *n,
                              int count) {
    float *once[4];
    for (int g = 0; g < count; g++) memset(grads[g], 0, n[g] * sizeof(float));
    backward(ctx);
    for (int g = 0; g < count; g++) once[g] = copy_floats(grads[g], n[g]);
    backward(ctx);
    for (int g = 0; g < count; g++) {
        double err = test_doubling_err(once[g], grads[g], n[g]);
        ck_assert_msg(err < 1e-6, "gradient %d not accumulated: second call err %g", g, err);
        memcpy(grads[g], once[g], n[g] * sizeof(float));
        free(once[g]);
    }
}

// ---- encoder -----------------------------------------------------------------
enum { ENC_B = 2, ENC_T = 3, ENC_C = 5, ENC_V = 6, ENC_MAXT = 4 };
typedef struct {
    int tokens[ENC_B * ENC_T];
    float *wte, *wpe, *out, *w, *dwte, *dwpe;
} EncoderCtx;

static double encoder_objective(void *arg) {
    EncoderCtx *c = arg;
    encoder_forward_cpu(c->out, c->tokens, c->wte, c->wpe, ENC_B, ENC_T, ENC_C);
    return test_dot(c->w, c->out, ENC_B * ENC_T * ENC_C);
}
static void encoder_backward(void *arg) {
    EncoderCtx *c = arg;
    encoder_backward_cpu(c->dwte, c->dwpe, c->w, c->tokens, ENC_B, ENC_T, ENC_C);
}

START_TEST(test_encoder) {
    // token 1 appears three times: its gradient row must sum three positions
    EncoderCtx c = {.tokens = {1, 3, 1, 5, 1, 0}};
    size_t n_out = ENC_B * ENC_T * ENC_C, n[2] = {ENC_V * ENC_C, ENC_MAXT * ENC_C};
    c.wte = random_floats(n[0], 1.0f, 1);
    c.wpe = random_floats(n[1], 1.0f, 2);
    c.w = random_floats(n_out, 1.0f, 3);
    c.out = malloc(n_out * sizeof(float));
    c.dwte = malloc(n[0] * sizeof(float));
    c.dwpe = malloc(n[1] * sizeof(float));
    encoder_objective(&c);
    ck_assert_float_eq(c.out[1 * ENC_C + 2], c.wte[3 * ENC_C + 2] + c.wpe[1 * ENC_C + 2]);
    check_accumulates(encoder_backward, &c, (float *[]){c.dwte, c.dwpe}, n, 2);
    double err_te = test_grad_check(encoder_objective, &c, c.wte, c.dwte, n[0], 1e-2f);
    double err_pe = test_grad_check(encoder_objective, &c, c.wpe, c.dwpe, n[1], 1e-2f);
    ck_assert_msg(err_te < 1e-4 && err_pe < 1e-4, "dwte err %g, dwpe err %g", err_te, err_pe);
    free(c.wte), free(c.wpe), free(c.w), free(c.out), free(c.dwte), free(c.dwpe);
}
END_TEST

// ---- layernorm -----------------------------------------------------------------
typedef struct {
    int N, C;
    float *inp, *weight, *bias, *out, *mean, *rstd, *w, *dinp, *dweight, *dbias;
} LayernormCtx;

static double layernorm_objective(void *arg) {
    LayernormCtx *c = arg;
    layernorm_forward_cpu(c->out, c->mean, c->rstd, c->inp, c->weight, c->bias, c->N, c->C);
    return test_dot(c->w, c->out, (size_t)c->N * c->C);
}
static void layernorm_backward(void *arg) {
    LayernormCtx *c = arg;
    layernorm_backward_cpu(c->dinp, c->dweight, c->dbias, c->w, c->inp, c->weight, c->mean,
                           c->rstd, c->N, c->C);
}

START_TEST(test_layernorm) {
    // C = 130: two full column blocks of the dweight/dbias sums and a partial one
    LayernormCtx c = {.N = 3, .C = 130};
    size_t nx = (size_t)c.N * c.C, n[3] = {nx, c.C, c.C};
    c.inp = random_floats(nx, 2.0f, 4);
    for (size_t i = 0; i < nx; i++) c.inp[i] += 3.0f;  // a mean far from 0
    c.weight = random_floats(c.C, 1.0f, 5);
    c.bias = random_floats(c.C, 1.0f, 6);
    c.w = random_floats(nx, 1.0f, 7);
    c.out = malloc(nx * sizeof(float));
    c.mean = malloc(c.N * sizeof(float));
    c.rstd = malloc(c.N * sizeof(float));
    c.dinp = malloc(nx * sizeof(float));
    c.dweight = malloc(c.C * sizeof(float));
    c.dbias = malloc(c.C * sizeof(float));
    layernorm_objective(&c);
    for (int i = 0; i < c.N; i++) {  // forward against the definition, in double
        const float *x = c.inp + (size_t)i * c.C;
        double m = 0, var = 0;
        for (int j = 0; j < c.C; j++) m += x[j];
        m /= c.C;
        for (int j = 0; j < c.C; j++) var += (x[j] - m) * (x[j] - m);
        double s = 1.0 / sqrt(var / c.C + 1e-5);
        ck_assert_double_eq_tol(c.mean[i], m, 1e-5);
        ck_assert_double_eq_tol(c.rstd[i], s, 1e-5 * s);
        for (int j = 0; j < c.C; j++)
            ck_assert_double_eq_tol(c.out[(size_t)i * c.C + j],
                                    (x[j] - m) * s * c.weight[j] + c.bias[j], 1e-5);
    }
    check_accumulates(layernorm_backward, &c, (float *[]){c.dinp, c.dweight, c.dbias}, n, 3);
    double e_x = test_grad_check(layernorm_objective, &c, c.inp, c.dinp, nx, 1e-2f);
    double e_w = test_grad_check(layernorm_objective, &c, c.weight, c.dweight, c.C, 1e-2f);
    double e_b = test_grad_check(layernorm_objective, &c, c.bias, c.dbias, c.C, 1e-2f);
    ck_assert_msg(e_x < 1e-3 && e_w < 1e-4 && e_b < 1e-4, "dinp %g dweight %g dbias %g", e_x,
                  e_w, e_b);
    free(c.inp), free(c.weight), free(c.bias), free(c.w), free(c.out), free(c.mean);
    free(c.rstd), free(c.dinp), free(c.dweight), free(c.dbias);
}
END_TEST

// ---- bias ----------------------------------------------------------------------
typedef struct {
    int N, C;
    float *base, *bias, *out, *w, *dbias;
} BiasCtx;

static double bias_objective(void *arg) {
    BiasCtx *c = arg;
    memcpy(c->out, c->base, (size_t)c->N * c->C * sizeof(float));
    bias_forward_cpu(c->out, c->bias, c->N, c->C);
    return test_dot(c->w, c->out, (size_t)c->N * c->C);
}
static void bias_backward(void *arg) {
    BiasCtx *c = arg;
    bias_backward_cpu(c->dbias, c->w, c->N, c->C);
}

START_TEST(test_bias) {
    BiasCtx c = {.N = 7, .C = 70};
    size_t nx = (size_t)c.N * c.C;
    c.base = random_floats(nx, 1.0f, 8);
    c.bias = random_floats(c.C, 1.0f, 9);
    c.w = random_floats(nx, 1.0f, 10);
    c.out = malloc(nx * sizeof(float));
    c.dbias = malloc(c.C * sizeof(float));
    bias_objective(&c);
    ck_assert_float_eq(c.out[3 * c.C + 65], c.base[3 * c.C + 65] + c.bias[65]);
    check_accumulates(bias_backward, &c, &c.dbias, (size_t[]){c.C}, 1);
    double err = test_grad_check(bias_objective, &c, c.bias, c.dbias, c.C, 1e-2f);
    ck_assert_msg(err < 1e-4, "dbias err %g", err);
    free(c.base), free(c.bias), free(c.w), free(c.out), free(c.dbias);
}
END_TEST

// ---- relu ----------------------------------------------------------------------
typedef struct {
    size_t n;
    float *inp, *out, *w, *dinp;
} ReluCtx;

static double relu_objective(void *arg) {
    ReluCtx *c = arg;
    relu_forward_cpu(c->out, c->inp, c->n);
    return test_dot(c->w, c->out, c->n);
}
static void relu_backward(void *arg) {
    ReluCtx *c = arg;
    relu_backward_cpu(c->dinp, c->w, c->out, c->n);
}

START_TEST(test_relu) {
    ReluCtx c = {.n = 200};
    c.inp = random_floats(c.n, 1.0f, 11);
    for (size_t i = 0; i < c.n; i++)  // keep |x| >= 0.1: no kink within eps
        c.inp[i] = c.inp[i] < 0 ? c.inp[i] - 0.1f : c.inp[i] + 0.1f;
    c.w = random_floats(c.n, 1.0f, 12);
    c.out = malloc(c.n * sizeof(float));
    c.dinp = malloc(c.n * sizeof(float));
    relu_objective(&c);
    for (size_t i = 0; i < c.n; i++) ck_assert_float_eq(c.out[i], fmaxf(c.inp[i], 0.0f));
    check_accumulates(relu_backward, &c, &c.dinp, &c.n, 1);
    double err = test_grad_check(relu_objective, &c, c.inp, c.dinp, c.n, 1e-2f);
    ck_assert_msg(err < 1e-4, "dinp err %g", err);
    free(c.inp), free(c.w), free(c.out), free(c.dinp);
}
END_TEST

// ---- softmax over an axis --------------------------------------------------------
typedef struct {
    int outer, n, inner;
    float scale;
} SoftmaxCase;
// inner = 1 (router), inner > 1 (group softmax), inner over one 64-column slice,
// negative and non-unit scales
static const SoftmaxCase softmax_cases[] = {
    {3, 5, 1, 1.0f}, {2, 4, 3, 0.7f}, {2, 6, 70, -1.3f}, {1, 9, 2, 2.5f}};

typedef struct {
    SoftmaxCase s;
    float *inp, *out, *w, *dinp;
} SoftmaxCtx;

static size_t softmax_size(SoftmaxCase s) { return (size_t)s.outer * s.n * s.inner; }

static double softmax_objective(void *arg) {
    SoftmaxCtx *c = arg;
    softmax_forward_cpu(c->out, c->inp, c->s.outer, c->s.n, c->s.inner, c->s.scale);
    return test_dot(c->w, c->out, softmax_size(c->s));
}
static void softmax_backward(void *arg) {
    SoftmaxCtx *c = arg;
    softmax_backward_cpu(c->dinp, c->w, c->out, c->s.outer, c->s.n, c->s.inner, c->s.scale);
}

START_TEST(test_softmax_axis) {
    SoftmaxCtx c = {.s = softmax_cases[_i]};
    size_t n = softmax_size(c.s);
    c.inp = random_floats(n, 2.0f, 13 + _i);
    c.w = random_floats(n, 1.0f, 17 + _i);
    c.out = malloc(n * sizeof(float));
    c.dinp = malloc(n * sizeof(float));
    softmax_objective(&c);
    for (int o = 0; o < c.s.outer; o++)  // forward against exp / sum exp in double
        for (int i = 0; i < c.s.inner; i++) {
            size_t base = (size_t)o * c.s.n * c.s.inner + i;
            double sum = 0;
            for (int j = 0; j < c.s.n; j++) sum += exp(c.s.scale * c.inp[base + j * c.s.inner]);
            for (int j = 0; j < c.s.n; j++) {
                size_t k = base + (size_t)j * c.s.inner;
                ck_assert_double_eq_tol(c.out[k], exp(c.s.scale * c.inp[k]) / sum, 1e-6);
            }
        }
    check_accumulates(softmax_backward, &c, &c.dinp, &n, 1);
    double err = test_grad_check(softmax_objective, &c, c.inp, c.dinp, n, 1e-2f);
    ck_assert_msg(err < 1e-3, "case %d: dinp err %g", _i, err);
    free(c.inp), free(c.w), free(c.out), free(c.dinp);
}
END_TEST

// ---- softmax cross-entropy ---------------------------------------------------------
enum { XENT_N = 4, XENT_V = 37 };
typedef struct {
    int targets[XENT_N];
    float dscale;
    float *logits, *scratch, *losses;
} XentCtx;

// L = dscale * sum(losses): the op's gradient output is exactly dL/dlogits.
static double xent_objective(void *arg) {
    XentCtx *c = arg;
    memcpy(c->scratch, c->logits, XENT_N * XENT_V * sizeof(float));
    softmax_xent_cpu(c->losses, c->scratch, c->targets, XENT_N, XENT_V, 0.0f);
    double sum = 0;
    for (int i = 0; i < XENT_N; i++) sum += c->losses[i];
    return c->dscale * sum;
}

START_TEST(test_xent_gradient) {
    XentCtx c = {.targets = {3, -1, 36, 0}, .dscale = 1.0f / 3};  // mean over 3 valid rows
    size_t n = XENT_N * XENT_V;
    c.logits = random_floats(n, 3.0f, 21);
    c.scratch = malloc(n * sizeof(float));
    c.losses = malloc(XENT_N * sizeof(float));
    float *grad = copy_floats(c.logits, n), losses[XENT_N];
    softmax_xent_cpu(losses, grad, c.targets, XENT_N, XENT_V, c.dscale);
    xent_objective(&c);
    for (int i = 0; i < XENT_N; i++)  // the gradient pass reports the same losses
        ck_assert_float_eq(losses[i], c.losses[i]);
    ck_assert_float_eq(losses[1], 0.0f);
    for (int v = 0; v < XENT_V; v++) ck_assert_float_eq(grad[1 * XENT_V + v], 0.0f);
    double err = test_grad_check(xent_objective, &c, c.logits, grad, n, 1e-2f);
    ck_assert_msg(err < 1e-3, "dlogits err %g", err);
    free(c.logits), free(c.scratch), free(c.losses), free(grad);
}
END_TEST

START_TEST(test_xent_full_vocabulary) {
    // GPT-2 vocabulary, logits up to ±100: exp would overflow fp32 without the max
    enum { N = 3, V = 50257 };
    float *logits = random_floats((size_t)N * V, 100.0f, 22), losses[N];
    int targets[N] = {50256, 0, 12345};
    softmax_xent_cpu(losses, logits, targets, N, V, 0.0f);
    for (int i = 0; i < N; i++) {
        const float *z = logits + (size_t)i * V;
        double max = -INFINITY, sum = 0;
        for (int v = 0; v < V; v++) max = fmax(max, z[v]);
        for (int v = 0; v < V; v++) sum += exp((double)z[v] - max);
        double expect = max + log(sum) - z[targets[i]];
        ck_assert_msg(fabs(losses[i] - expect) <= 1e-5 * fabs(expect), "row %d: %g vs %g", i,
                      losses[i], expect);
    }
    free(logits);
}
END_TEST

// ---- transpose01 ---------------------------------------------------------------
enum { TR_A = 3, TR_B = 4, TR_C = 5, TR_N = TR_A * TR_B * TR_C };
typedef struct {
    float *inp, *out, *w;
} TransposeCtx;

static double transpose_objective(void *arg) {
    TransposeCtx *c = arg;
    transpose01_cpu(c->out, c->inp, TR_A, TR_B, TR_C);
    return test_dot(c->w, c->out, TR_N);
}

START_TEST(test_transpose01) {
    TransposeCtx c = {.inp = random_floats(TR_N, 1.0f, 23), .w = random_floats(TR_N, 1.0f, 24),
                      .out = malloc(TR_N * sizeof(float))};
    transpose_objective(&c);
    for (int a = 0; a < TR_A; a++)
        for (int b = 0; b < TR_B; b++)
            for (int k = 0; k < TR_C; k++)
                ck_assert_float_eq(c.out[(b * TR_A + a) * TR_C + k],
                                   c.inp[(a * TR_B + b) * TR_C + k]);
    // The gradient of a transpose is the transpose back: w (B,A,C) -> (A,B,C).
    float grad[TR_N];
    transpose01_cpu(grad, c.w, TR_B, TR_A, TR_C);
    double err = test_grad_check(transpose_objective, &c, c.inp, grad, TR_N, 1e-2f);
    ck_assert_msg(err < 1e-4, "transpose gradient err %g", err);
    free(c.inp), free(c.w), free(c.out);
}
END_TEST

// ---- optimizer and reductions ---------------------------------------------------
START_TEST(test_adamw_step) {
    enum { N = 50 };
    const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f, scale = 0.5f;
    const int t = 3;
    float *p = random_floats(N, 1.0f, 25), *g = random_floats(N, 1.0f, 26);
    float *m = random_floats(N, 0.1f, 27), *v = random_floats(N, 0.1f, 28);
    for (int i = 0; i < N; i++) v[i] = fabsf(v[i]);
    float *p0 = copy_floats(p, N), *m0 = copy_floats(m, N), *v0 = copy_floats(v, N);
    adamw_cpu(p, g, m, v, N, lr, b1, b2, eps, wd, t, scale, 0);
    for (int i = 0; i < N; i++) {
        double gi = (double)g[i] * scale;
        double mi = b1 * (double)m0[i] + (1 - b1) * gi;
        double vi = b2 * (double)v0[i] + (1 - b2) * gi * gi;
        double mhat = mi / (1 - pow(b1, t)), vhat = vi / (1 - pow(b2, t));
        double pi = p0[i] - lr * (mhat / (sqrt(vhat) + eps) + wd * p0[i]);
        ck_assert_double_eq_tol(m[i], mi, 1e-6);
        ck_assert_double_eq_tol(v[i], vi, 1e-6);
        ck_assert_double_eq_tol(p[i], pi, 1e-5 * (1 + fabs(pi)));
    }
    // bf16 state: the same fp32 update, then every state tensor rounded to bf16
    float *pb = copy_floats(p0, N), *mb = copy_floats(m0, N), *vb = copy_floats(v0, N);
    adamw_cpu(pb, g, mb, vb, N, lr, b1, b2, eps, wd, t, scale, 1);
    for (int i = 0; i < N; i++) {
        ck_assert_float_eq(pb[i], round_bf16(p[i]));
        ck_assert_float_eq(mb[i], round_bf16(m[i]));
        ck_assert_float_eq(vb[i], round_bf16(v[i]));
    }
    free(p), free(g), free(m), free(v), free(p0), free(m0), free(v0), free(pb), free(mb), free(vb);
}
END_TEST

START_TEST(test_adamw_rejects_step_zero) {
    float p = 1, g = 1, m = 0, v = 0;
    adamw_cpu(&p, &g, &m, &v, 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.1f, 0, 1.0f, 0);
}
END_TEST

START_TEST(test_sum_and_sumsq) {
    size_t n = 100003;  // past the OpenMP split, odd
    float *x = random_floats(n, 3.0f, 29);
    double sum = 0, sumsq = 0;
    for (size_t i = 0; i < n; i++) sum += x[i], sumsq += (double)x[i] * x[i];
    ck_assert_double_eq_tol(sum_cpu(x, n), sum, 1e-9 * sumsq);
    ck_assert_double_eq_tol(sumsq_cpu(x, n), sumsq, 1e-12 * sumsq);
    free(x);
}
END_TEST

// ---- element-wise utilities ----------------------------------------------------
START_TEST(test_round_bf16_known_values) {
    // bf16 keeps 7 fraction bits: around 1.0 the spacing is 2^-7.
    const float ulp = 0x1p-7f;
    struct { float in, out; } cases[] = {
        {1.0f, 1.0f},
        {1.0f + 0x1p-9f, 1.0f},                     // below half a spacing: down
        {1.0f + 0x1p-8f, 1.0f},                     // exact tie, 1.0 is even: down
        {1.0f + ulp + 0x1p-8f, 1.0f + 2 * ulp},     // exact tie, 1+ulp is odd: up
        {1.0f + 0x1p-8f + 0x1p-16f, 1.0f + ulp},    // just past the tie: up
        {-(1.0f + 0x1p-8f + 0x1p-16f), -(1.0f + ulp)},
        {3.14159265f, 3.140625f},
        {0x1.fffffep127f, INFINITY},  // the largest float rounds past bf16's largest
        {INFINITY, INFINITY},
    };
    int n = sizeof cases / sizeof cases[0];
    float x[16];
    for (int i = 0; i < n; i++) x[i] = cases[i].in;
    x[n] = NAN;
    round_bf16_cpu(x, n + 1);
    for (int i = 0; i < n; i++)
        ck_assert_msg(x[i] == cases[i].out, "round_bf16(%a) = %a, expected %a", cases[i].in, x[i],
                      cases[i].out);
    ck_assert(isnan(x[n]));
}
END_TEST

START_TEST(test_fast_expf_accuracy) {
    // a million points across [-87, 88] plus small ones: within 1 ulp of exp
    double worst = 0;
    for (int k = 0; k <= 1000000; k++) {
        float x = k < 500000 ? -87.0f + 175.0f * k / 500000 : (k - 750000) * 1e-6f;
        double exact = exp((double)x);
        double ulp = (double)nextafterf((float)exact, INFINITY) - (float)exact;
        worst = fmax(worst, fabs(fast_expf(x) - exact) / ulp);
    }
    ck_assert_msg(worst <= 1.0, "fast_expf is %g ulp off", worst);
    ck_assert_float_eq(fast_expf(0.0f), 1.0f);
    ck_assert(fast_expf(-1000.0f) < 2e-38f);  // clamped, not negative or NaN
    ck_assert(fast_expf(-1000.0f) >= 0.0f);
    ck_assert(isnan(fast_expf(NAN)));
    ck_assert(isnan(fast_expf(-NAN)));
    // A masked logit (-inf) has weight exactly 0, not NaN (padded MoT groups).
    ck_assert_msg(fast_expf(-INFINITY) == 0.0f, "fast_expf(-inf) = %g", fast_expf(-INFINITY));
    ck_assert(isnan(fast_expf(INFINITY)));  // an overflowing logit is an error, not a weight
}
END_TEST

// Softmax over a column holding -inf entries (padding rows): those get weight 0
// and the finite entries a softmax of their own, exactly as if the pads were absent.
START_TEST(test_softmax_masked_entries) {
    const float x[] = {1.0f, -INFINITY, 0.5f, 2.0f, -INFINITY, -INFINITY};  // (1,3,2)
    float y[6];
    softmax_forward_cpu(y, x, 1, 3, 2, 1.0f);
    double e0 = exp(1.0), e2 = exp(0.5);
    ck_assert_double_eq_tol(y[0], e0 / (e0 + e2), 1e-6);
    ck_assert_double_eq_tol(y[2], e2 / (e0 + e2), 1e-6);
    ck_assert_float_eq(y[4], 0.0f);
    ck_assert_float_eq(y[1], 0.0f);  // column 1: only row 1 is finite
    ck_assert_float_eq(y[3], 1.0f);
    ck_assert_float_eq(y[5], 0.0f);
}
END_TEST

START_TEST(test_axpy_fill) {
    size_t n = 70001;
    float *x = random_floats(n, 1.0f, 30), *y = random_floats(n, 1.0f, 31);
    float *y0 = copy_floats(y, n);
    axpy_cpu(y, -2.5f, x, n);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(y[i], y0[i] + -2.5f * x[i]);
    fill_cpu(y, 0.75f, n);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(y[i], 0.75f);
    free(x), free(y), free(y0);
}
END_TEST

START_TEST(test_memory_ops) {
    size_t n = 1000;
    float *d = alloc_cpu(n * sizeof(float)), *e = alloc_cpu(n * sizeof(float));
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(d[i], 0.0f);  // zero-filled
    float *h = random_floats(n, 1.0f, 32), back[1000];
    copy_cpu(d, h, n * sizeof(float));
    copy_cpu(e, d, n * sizeof(float));
    copy_cpu(back, e, n * sizeof(float));
    ck_assert_mem_eq(back, h, n * sizeof(float));
    zero_cpu(e, n * sizeof(float));
    ck_assert_float_eq(e[n - 1], 0.0f);
    synchronize_cpu();
    ck_assert_uint_gt(memory_available_cpu(), 1u << 20);
    ck_assert_str_ne(device_name_cpu(), "");
    free_cpu(d), free_cpu(e), free(h);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("cpu");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_encoder);
    tcase_add_test(tc, test_layernorm);
    tcase_add_test(tc, test_bias);
    tcase_add_test(tc, test_relu);
    tcase_add_loop_test(tc, test_softmax_axis, 0, sizeof softmax_cases / sizeof softmax_cases[0]);
    tcase_add_test(tc, test_xent_gradient);
    tcase_add_test(tc, test_xent_full_vocabulary);
    tcase_add_test(tc, test_transpose01);
    tcase_add_test(tc, test_adamw_step);
    tcase_add_exit_test(tc, test_adamw_rejects_step_zero, 1);
    tcase_add_test(tc, test_sum_and_sumsq);
    tcase_add_test(tc, test_round_bf16_known_values);
    tcase_add_test(tc, test_fast_expf_accuracy);
    tcase_add_test(tc, test_softmax_masked_entries);
    tcase_add_test(tc, test_axpy_fill);
    tcase_add_test(tc, test_memory_ops);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
