// The tests/gpu harness without a GPU: with the CPU table standing in for CUDA
// every row passes, and with each op deliberately broken (tests/gpu/broken_ops.c)
// exactly that op's rows fail, so no row of the GPU check is blind. Quick sizes,
// op and routing tables (whole models take minutes on the CPU: run them with
// `test_gpu --cpu-vs-cpu --quick`). Built with tests/gpu/*.c (not its main).
#include <stdio.h>
#include <string.h>

#include "tests/gpu/harness.h"
#include "tests/testutil.h"

// Sizes a quarter of test_gpu --quick's: the table runs 1 + broken_op_count()
// times on a CI machine's CPU.
enum { CI_DIVISOR = 4 * QUICK_DIVISOR };

static Harness quick_harness(const Ops *gpu) {
    return (Harness){.cpu = &ops_cpu, .gpu = gpu, .rng = 0x5eed2024u, .quick = CI_DIVISOR, .quiet = 1};
}

static int rows_named(const Harness *h, const char *check) {
    int n = 0;
    for (int i = 0; i < h->n_rows; i++) n += !strncmp(h->rows[i].check, check, strlen(check));
    return n;
}

START_TEST(test_cpu_against_cpu_passes_every_row) {
    Harness h = quick_harness(&ops_cpu);
    int failed = harness_run(&h);
    for (int i = 0; i < h.n_rows; i++)
        ck_assert_msg(h.rows[i].ok, "row '%s %s' failed CPU against CPU: %g > %g", h.rows[i].check,
                      h.rows[i].size, h.rows[i].err, h.rows[i].tol);
    ck_assert_int_eq(failed, 0);
    // Every slot of both op tables has rows (the memory slots have their own checks).
#define HAS_ROWS(slot)                                                                          \
    if (strcmp(#slot, "alloc") && strcmp(#slot, "free") && strcmp(#slot, "to_device") &&        \
        strcmp(#slot, "to_host") && strcmp(#slot, "copy") && strcmp(#slot, "zero") &&           \
        strcmp(#slot, "synchronize") && strcmp(#slot, "memory_available") &&                   \
        strcmp(#slot, "device_name"))                                                          \
        ck_assert_msg(rows_named(&h, #slot) > 0, "no harness row checks %s", #slot);
    OPS_FUNCTION_SLOTS(HAS_ROWS)
    ROUTING_OP_SLOTS(HAS_ROWS)
#undef HAS_ROWS
    ck_assert_int_gt(rows_named(&h, "gemm bf16 nearer bf16 than fp32"), 0);
    harness_free(&h);
}
END_TEST

// One break per loop iteration: its rows, and only those, must fail.
START_TEST(test_each_broken_op_fails_exactly_its_rows) {
    const char *name = broken_op_name(_i);
    Harness h = quick_harness(broken_ops(name));
    harness_run(&h);
    int affected = 0;
    for (int i = 0; i < h.n_rows; i++) {
        const HarnessRow *r = &h.rows[i];
        int should_fail = broken_op_affects(name, r);
        affected += should_fail;
        ck_assert_msg(should_fail == !r->ok, "%s broken: row '%s %s' %s (err %g, tol %g)", name,
                      r->check, r->size, should_fail ? "passed" : "failed", r->err, r->tol);
    }
    ck_assert_msg(affected > 0, "%s broken: no row checks it", name);
    harness_free(&h);
}
END_TEST

int main(void) {
    Suite *s = suite_create("gpu_harness");
    TCase *tc = tcase_create("cpu_stand_in");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_cpu_against_cpu_passes_every_row);
    tcase_add_loop_test(tc, test_each_broken_op_fails_exactly_its_rows, 0, broken_op_count());
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
