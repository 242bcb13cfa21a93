// `make test-gpu`: every CUDA op and whole training steps against the C reference.
// The same tables also run with a CPU table standing in for CUDA (--cpu-vs-cpu)
// and with one op deliberately broken (--break OP), which proves on a machine
// without a GPU that every row can fail (tests/test_gpu_harness.c runs both in CI).
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
// Products with bf16 operands: both sides round the same operands to bf16
// (round to nearest even), so only the fp32 summation order differs (~1e-6). An
// fp32 product lands ~2e-3 off and truncated bf16 operands ~6e-3 off.
#define TOL_BF16 1e-4
// bf16-rounded state (AdamW with bf16 moments, whole mixed/bf16 models): an fp32
// difference of one rounding step can move a value to the neighbouring bf16
// (2^-8 relative) and chains of ops compound that.
#define TOL_BF16_STATE 5e-4

// One reported row, kept for tests of the harness itself.
typedef struct {
    char check[48], size[112];
    double err, tol;
    int ok;
} HarnessRow;

typedef struct {
    const Ops *cpu, *gpu;
    uint64_t rng;  // inputs are drawn from here, so a run is reproducible
    int passed, failed;
    int quick;     // 0: full sizes; else dims >= QUICK_MIN_DIM divided by it, short model runs
    int models;    // run the whole-model cases too
    const char *model_filter;  // if set, only model cases whose name contains it
    int quiet;     // print failing rows only
    const char *size;  // label of the case being run, for rows a case adds itself
    HarnessRow *rows;  // every row reported (grown as needed), n_rows of them
    int n_rows;
} Harness;

enum { QUICK_MIN_DIM = 256, QUICK_DIVISOR = 8 };  // test_gpu --quick divides by QUICK_DIVISOR

// Print one table row and count it. err <= tol passes (a NaN error fails).
void harness_report(Harness *h, const char *check, const char *size, double err, double tol);
// Run every case table; returns the number of failed rows.
int harness_run(Harness *h);
void harness_free(Harness *h);

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
// Fraction of floats whose bits differ (NaN results must match bit for bit too).
double twin_bits_error(Harness *h, const Twin *t);
// ‖gpu − ref‖ / ‖ref‖ for the table's result against a host reference (n).
double twin_error_against(Harness *h, const Twin *t, const float *ref);

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
void run_gemm_cases(Harness *h);      // tests/gpu/gemm_cases.c
void run_op_cases(Harness *h);        // tests/gpu/op_cases.c
void run_routing_cases(Harness *h);   // tests/gpu/routing_cases.c
void run_model_cases(Harness *h);     // tests/gpu/model_cases.c

// ---- deliberately broken CPU tables (tests/gpu/broken_ops.c) ------------------

// The CPU table with one op perturbed: its outputs scaled by 1+1e-3 (or, for
// "gemm-fp32", an fp32 product where bf16 was asked for; "gemm-trunc", bf16
// operands truncated instead of rounded). NULL for an unknown name.
const Ops *broken_ops(const char *name);
int broken_op_count(void);
const char *broken_op_name(int i);
// Whether the row must fail when `name` is broken: rows of that op (and, where
// the break only touches bf16 products, only those rows).
int broken_op_affects(const char *name, const HarnessRow *row);
