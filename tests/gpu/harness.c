// The harness core: twin buffers, the report table, and the run of every case
// table (tests/gpu/main.c is `make test-gpu`'s main; tests/test_gpu_harness.c
// drives the same core with CPU stand-ins).
#include "tests/gpu/harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.h"
#include "tests/testutil.h"

uint64_t harness_next(Harness *h) { return test_rng_next(&h->rng); }

double harness_uniform(Harness *h) { return (double)(harness_next(h) >> 11) * 0x1.0p-53; }

void harness_report(Harness *h, const char *check, const char *size, double err, double tol) {
    int ok = err <= tol;  // false for NaN
    if (!h->quiet || !ok) {
        printf("%-32s %-60s %10.3e %8.1e  %s\n", check, size, err, tol, ok ? "PASS" : "FAIL");
        fflush(stdout);
    }
    if (ok)
        h->passed++;
    else
        h->failed++;
    if ((h->n_rows & (h->n_rows - 1)) == 0) {  // grow at 0, 1, 2, 4, 8, ...
        size_t cap = h->n_rows ? 2 * (size_t)h->n_rows : 1;
        h->rows = realloc(h->rows, cap * sizeof *h->rows);
        if (!h->rows) die("out of memory recording harness row %d", h->n_rows);
    }
    HarnessRow *row = &h->rows[h->n_rows++];
    snprintf(row->check, sizeof row->check, "%s", check);
    snprintf(row->size, sizeof row->size, "%s", size);
    row->err = err;
    row->tol = tol;
    row->ok = ok;
}

void harness_free(Harness *h) {
    free(h->rows);
    h->rows = NULL;
    h->n_rows = 0;
}

static Twin twin_alloc(Harness *h, size_t n) {
    return (Twin){.cpu = h->cpu->alloc(n * sizeof(float)), .gpu = h->gpu->alloc(n * sizeof(float)), .n = n};
}

Twin twin_from_host(Harness *h, const float *host, size_t n) {
    Twin t = twin_alloc(h, n);
    h->cpu->to_device(t.cpu, host, n * sizeof(float));
    h->gpu->to_device(t.gpu, host, n * sizeof(float));
    return t;
}

Twin twin_uniform(Harness *h, size_t n, float lo, float hi) {
    float *host = mallocCheck(n * sizeof(float));
    test_fill_uniform(host, n, 0.5f * (hi - lo), harness_next(h));  // [-(hi-lo)/2, (hi-lo)/2)
    for (size_t i = 0; i < n; i++) host[i] += 0.5f * (hi + lo);
    Twin t = twin_from_host(h, host, n);
    free(host);
    return t;
}

Twin twin_random(Harness *h, size_t n, float scale) { return twin_uniform(h, n, -scale, scale); }

void twin_free(Harness *h, Twin *t) {
    h->cpu->free(t->cpu);
    h->gpu->free(t->gpu);
    t->cpu = t->gpu = NULL;
}

double twin_error(Harness *h, const Twin *t) {
    float *gpu = mallocCheck(t->n * sizeof(float));
    h->gpu->to_host(gpu, t->gpu, t->n * sizeof(float));
    double diff = 0.0, ref = 0.0, other = 0.0;
    for (size_t i = 0; i < t->n; i++) {
        double a = t->cpu[i], b = gpu[i];
        diff += (a - b) * (a - b);
        ref += a * a;
        other += b * b;
    }
    free(gpu);
    return ref > 0.0 ? sqrt(diff / ref) : sqrt(other);
}

IntTwin int_twin_from_host(Harness *h, const int *host, size_t n) {
    IntTwin t = {.cpu = h->cpu->alloc(n * sizeof(int)), .gpu = h->gpu->alloc(n * sizeof(int)), .n = n};
    h->cpu->to_device(t.cpu, host, n * sizeof(int));
    h->gpu->to_device(t.gpu, host, n * sizeof(int));
    return t;
}

IntTwin int_twin_random(Harness *h, size_t n, int lo, int hi) {
    int *host = mallocCheck(n * sizeof(int));
    for (size_t i = 0; i < n; i++) host[i] = lo + (int)(harness_next(h) % (uint64_t)(hi - lo));
    IntTwin t = int_twin_from_host(h, host, n);
    free(host);
    return t;
}

void int_twin_free(Harness *h, IntTwin *t) {
    h->cpu->free(t->cpu);
    h->gpu->free(t->gpu);
    t->cpu = t->gpu = NULL;
}

double int_twin_error(Harness *h, const IntTwin *t) {
    int *gpu = mallocCheck(t->n * sizeof(int));
    h->gpu->to_host(gpu, t->gpu, t->n * sizeof(int));
    size_t differ = 0;
    for (size_t i = 0; i < t->n; i++) differ += t->cpu[i] != gpu[i];
    free(gpu);
    return t->n ? (double)differ / (double)t->n : 0.0;
}

double twin_bits_error(Harness *h, const Twin *t) {
    float *gpu = mallocCheck(t->n * sizeof(float));
    h->gpu->to_host(gpu, t->gpu, t->n * sizeof(float));
    size_t differ = 0;
    for (size_t i = 0; i < t->n; i++) differ += memcmp(&t->cpu[i], &gpu[i], sizeof(float)) != 0;
    free(gpu);
    return t->n ? (double)differ / (double)t->n : 0.0;
}

double twin_error_against(Harness *h, const Twin *t, const float *ref) {
    Twin view = {.cpu = (float *)ref, .gpu = t->gpu, .n = t->n};
    return twin_error(h, &view);
}

double worst_error(double a, double b) { return isnan(a) || a > b ? a : b; }

double twins_error_free(Harness *h, Twin *outputs, int n_outputs) {
    double err = 0.0;
    for (int i = 0; i < n_outputs; i++) err = worst_error(err, twin_error(h, &outputs[i]));
    for (int i = 0; i < n_outputs; i++) twin_free(h, &outputs[i]);
    return err;
}

// "M,N,K" and {4096, 512, 2048} -> "M=4096 N=512 K=2048"
static void format_dims(char *out, size_t len, const char *names, const int *dims) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; *names && i < MAX_DIMS && used < len; i++) {
        size_t name_len = strcspn(names, ",");
        used += (size_t)snprintf(out + used, len - used, "%s%.*s=%d", i ? " " : "", (int)name_len,
                                 names, dims[i]);
        names += name_len + (names[name_len] == ',');
    }
}

// Quick runs shrink every large dimension alike, so shapes keep their
// proportions (C still splits into NH heads, tokens stay below V, ...).
static void quick_dims(const Harness *h, const int *dims, int *out) {
    for (int i = 0; i < MAX_DIMS; i++)
        out[i] = h->quick && dims[i] >= QUICK_MIN_DIM ? dims[i] / h->quick : dims[i];
}

void run_case_table(Harness *h, const OpCase *cases, size_t n_cases) {
    for (size_t i = 0; i < n_cases; i++) {
        char size[96];
        int dims[MAX_DIMS];
        quick_dims(h, cases[i].dims, dims);
        format_dims(size, sizeof size, cases[i].dim_names, dims);
        h->size = size;
        harness_report(h, cases[i].op, size, cases[i].run(h, dims), cases[i].tol);
        h->size = NULL;
    }
}

int harness_run(Harness *h) {
    if (!h->quiet) {
        printf("test-gpu: %s table on %s against the CPU reference%s\n", h->gpu->name,
               h->gpu->device_name(), h->quick ? " (quick sizes)" : "");
        printf("%-32s %-60s %10s %8s  %s\n", "check", "size", "rel.err", "tol", "result");
    }
    run_memory_checks(h);
    run_gemm_cases(h);
    run_op_cases(h);
    run_routing_cases(h);
    if (h->models) run_model_cases(h);
    printf("test-gpu: %d passed, %d failed\n", h->passed, h->failed);
    return h->failed;
}
