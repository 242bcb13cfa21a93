// Small helpers shared by the Check test binaries (header-only).
#pragma once
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

// Deterministic xorshift generator for test inputs.
static inline uint64_t test_rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}
// Uniform in [-scale, scale).
static inline void test_fill_uniform(float *x, size_t n, float scale, uint64_t seed) {
    uint64_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = scale * (2.0f * (float)((test_rng_next(&s) >> 40) / 16777216.0) - 1.0f);
}
// The larger of two errors, NaN counting as the largest: fmax(x, NaN) is x, which
// would let a NaN result pass every `err < tol` check after it.
static inline double test_worse(double worst, double err) {
    return isnan(worst) || isnan(err) ? NAN : fmax(worst, err);
}
// max_i |a-b| / max(|a|,|b|,floor); NaN when any element is NaN.
static inline double test_max_rel_err(const float *a, const float *b, size_t n, double floor) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        double s = fmax(fmax(fabs(a[i]), fabs(b[i])), floor);
        worst = test_worse(worst, d / s);
    }
    return worst;
}
// Run one Check suite, return the process exit code.
static inline int test_run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

// ---- finite-difference gradient checks (kernel tests) ----------------------

// A scalar objective of some buffers, typically L = sum(w ⊙ forward(x)) in double.
typedef double (*test_objective)(void *ctx);

// sum_i w[i] * x[i] in double: the objective whose gradient w.r.t. x is w.
static inline double test_dot(const float *w, const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)w[i] * x[i];
    return s;
}

// ||a - b|| / ||b|| (b the reference); 0 when both vanish.
static inline double test_norm_rel_err(const float *a, const float *b, size_t n) {
    double diff = 0, ref = 0;
    for (size_t i = 0; i < n; i++) {
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        ref += (double)b[i] * b[i];
    }
    return ref > 0 ? sqrt(diff / ref) : sqrt(diff);
}

// Central differences (L(x+eps) - L(x-eps)) / 2eps for every element of x (n), the
// objective reading x through ctx; returns ||numeric - grad|| / ||numeric||.
static inline double test_grad_check(test_objective objective, void *ctx, float *x,
                                     const float *grad, size_t n, float eps) {
    float *numeric = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        float saved = x[i];
        x[i] = saved + eps;
        double plus = objective(ctx);
        x[i] = saved - eps;
        double minus = objective(ctx);
        x[i] = saved;
        numeric[i] = (float)((plus - minus) / (2.0 * eps));
    }
    double err = test_norm_rel_err(grad, numeric, n);
    free(numeric);
    return err;
}

// max_i |again[i] - 2 once[i]| / max|2 once|: a backward op called twice on the
// same buffer must have accumulated (+=), not overwritten.
static inline double test_doubling_err(const float *once, const float *again, size_t n) {
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) scale = test_worse(scale, fabs(2.0 * once[i]));
    for (size_t i = 0; i < n; i++) worst = test_worse(worst, fabs(again[i] - 2.0 * once[i]));
    return worst / scale;
}
