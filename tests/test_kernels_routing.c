// Routing selections of kernels/routing.c on inputs that must not break them:
// NaN router probabilities in Expert Choice top-k (ranked as -inf, every slot
// filled exactly once) alongside the ordinary order and tie rules.
#include <math.h>

#include "kernels/routing.h"
#include "tests/testutil.h"

// One group (M=1) of G=4 rows, one expert, k=4: NaN rows rank last, ties among
// them (and among equal probabilities) towards the lower row.
START_TEST(test_ec_topk_ranks_nan_as_minus_infinity) {
    const float probs[] = {0.5f, NAN, 0.7f, NAN};  // (1,4,1)
    int token[4] = {-7, -7, -7, -7};
    float gate[4] = {0};
    routing_ops_cpu.ec_topk(token, gate, probs, 1, 4, 1, 4);
    const int expect[] = {2, 0, 1, 3};
    for (int s = 0; s < 4; s++)
        ck_assert_msg(token[s] == expect[s], "slot %d holds row %d, expected %d", s, token[s],
                      expect[s]);
    ck_assert_float_eq(gate[0], 0.7f);
    ck_assert_float_eq(gate[1], 0.5f);
    ck_assert(isnan(gate[2]) && isnan(gate[3]));  // the NaN reaches the loss
}
END_TEST

// k < G with a NaN among the finite rows: the NaN row is never picked over a
// finite one, and -inf (a padding row) ties with NaN by row index.
START_TEST(test_ec_topk_nan_and_minus_infinity_rows) {
    const float probs[] = {-INFINITY, 0.25f, NAN, 0.25f, 0.1f};  // (1,5,1)
    int token[3];
    float gate[3];
    routing_ops_cpu.ec_topk(token, gate, probs, 1, 5, 1, 3);
    ck_assert_int_eq(token[0], 1);  // 0.25, lower row of the tie
    ck_assert_int_eq(token[1], 3);
    ck_assert_int_eq(token[2], 4);
    const float only_masked[] = {NAN, -INFINITY};  // (1,2,1)
    routing_ops_cpu.ec_topk(token, gate, only_masked, 1, 2, 1, 2);
    ck_assert_int_eq(token[0], 0);  // both rank as -inf: lower row first
    ck_assert_int_eq(token[1], 1);
}
END_TEST

int main(void) {
    Suite *s = suite_create("kernels_routing");
    TCase *tc = tcase_create("ec_topk");
    tcase_add_test(tc, test_ec_topk_ranks_nan_as_minus_infinity);
    tcase_add_test(tc, test_ec_topk_nan_and_minus_infinity_rows);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
