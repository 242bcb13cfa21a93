// `make test-gpu`: every CUDA op and whole training steps against the C reference.
//
// Structured like ggml's backend tests: each file holds a table of cases and
// one loop runs them. An op case draws fresh random inputs, hands identical
// copies to the CPU and the CUDA table ("twins"), runs the op on both and
// reports the norm-wise relative error ‖cpu − cuda‖ / ‖cpu‖ of every output.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/ops.h"
#include "kernels/routing.h"

// Tolerances (norm-wise relative error).
#define TOL_EXACT 0.0     // data movement and selections: bit-identical
#define TOL_FP32 1e-5     // fp32 arithmetic, CPU and GPU summing in different orders
#define TOL_BF16 1e-2     // products with bf16 operands

typedef struct {
    const Ops *cpu, *gpu;
    uint64_t rng;  // inputs are drawn from here, so a run is reproducible
    int passed, failed;
} Harness;

// Print one table row and count it. err <= tol passes (a NaN error fails).
void harness_report(Harness *h, const char *check, const char *size, double err, double tol);

// Ops cases run one statement for both tables:
//   FOR_EACH_SIDE(side) side_ops(h, side)->relu_forward(ON(out, side), ON(inp, side), n);
enum { SIDE_CPU, SIDE_GPU };
#define FOR_EACH_SIDE(side) for (int side = SIDE_CPU; side <= SIDE_GPU; side++)
#define ON(twin, side) ((side) == SIDE_GPU ? (twin).gpu : (twin).cpu)
static inline const Ops *side_ops(const Harness *h, int side) {
    return side == SIDE_GPU ? h->gpu : h->cpu;
}

// ---- twin buffers: the same contents on the CPU table and the CUDA table ----

typedef struct {
    float *cpu, *gpu;  // device pointers of each table
    size_t n;
} Twin;

typedef struct {
    int *cpu, *gpu;
    size_t n;
} IntTwin;

// Uniform in [lo, hi).
Twin twin_uniform(Harness *h, size_t n, float lo, float hi);
// Uniform in [-scale, scale).
Twin twin_random(Harness *h, size_t n, float scale);
// Copies of host (n) on both tables.
Twin twin_from_host(Harness *h, const float *host, size_t n);
void twin_free(Harness *h, Twin *t);
// ‖cpu − gpu‖ / ‖cpu‖ (‖gpu‖ when cpu is all zero), in double.
double twin_error(Harness *h, const Twin *t);

IntTwin int_twin_from_host(Harness *h, const int *host, size_t n);
// Uniform integers in [lo, hi).
IntTwin int_twin_random(Harness *h, size_t n, int lo, int hi);
void int_twin_free(Harness *h, IntTwin *t);
// Fraction of entries that differ.
double int_twin_error(Harness *h, const IntTwin *t);

uint64_t harness_next(Harness *h);
// Uniform in [0, 1).
double harness_uniform(Harness *h);

// Worst of two errors; NaN counts as worst.
double worst_error(double a, double b);
// Worst twin_error over the outputs, which are then freed.
double twins_error_free(Harness *h, Twin *outputs, int n_outputs);

// ---- case tables --------------------------------------------------------------

enum { MAX_DIMS = 10 };

// One op at one size. run draws the inputs, runs the op on both tables and
// returns the worst error over its outputs; dims mean what run says they mean.
typedef struct {
    const char *op;
    const char *dim_names;  // comma-separated, one per used entry of dims
    int dims[MAX_DIMS];
    double tol;
    double (*run)(Harness *h, const int *dims);
} OpCase;

// Run every case and report one row each.
void run_case_table(Harness *h, const OpCase *cases, size_t n_cases);

// ---- the case tables (one file each) ----------------------------------------

void run_memory_checks(Harness *h);   // tests/gpu/op_cases.c
void run_op_cases(Harness *h);        // tests/gpu/op_cases.c
void run_routing_cases(Harness *h);   // tests/gpu/routing_cases.c
void run_model_cases(Harness *h);     // tests/gpu/model_cases.c
