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
// max_i |a-b| / max(|a|,|b|,floor)
static inline double test_max_rel_err(const float *a, const float *b, size_t n, double floor) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        double s = fmax(fmax(fabs(a[i]), fabs(b[i])), floor);
        if (d / s > worst) worst = d / s;
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
