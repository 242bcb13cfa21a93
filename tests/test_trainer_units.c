// The trainer's small parts in process: strict number parsing, the option range
// check, the GPU memory probe's arithmetic, and the CSV header repair on resume.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite/csvio.h"
#include "suite/number.h"
#include "suite/rundir.h"
#include "suite/trainer/device.h"
#include "suite/trainer/options.h"
#include "testutil.h"

START_TEST(test_numbers_are_the_whole_text) {
    static const char *const bad[] = {"", " 3", "3 ", "\t3", "3x", "x"};
    long l;
    int i;
    uint64_t u;
    float f;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(number_parse_long(bad[k], &l) == -1, "long accepted '%s'", bad[k]);
        ck_assert_msg(number_parse_int(bad[k], &i) == -1, "int accepted '%s'", bad[k]);
        ck_assert_msg(number_parse_u64(bad[k], &u) == -1, "u64 accepted '%s'", bad[k]);
        ck_assert_msg(number_parse_float(bad[k], &f) == -1, "float accepted '%s'", bad[k]);
    }
    ck_assert_int_eq(number_parse_int("-12", &i), 0);
    ck_assert_int_eq(i, -12);
    ck_assert_int_eq(number_parse_float("2.5e-3", &f), 0);
    ck_assert_float_eq(f, 2.5e-3f);
}
END_TEST

START_TEST(test_floats_must_be_finite) {
    static const char *const bad[] = {"nan", "NaN", "inf", "-inf", "infinity", "1e99"};
    float f = 7;
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        ck_assert_msg(number_parse_float(bad[k], &f) == -1, "accepted '%s'", bad[k]);
    ck_assert_float_eq(f, 7);  // untouched on failure
}
END_TEST

// "name=value" given on top of the defaults; returns train_options_check's why ("" if ok).
static const char *check_with(const char *name, const char *value) {
    static TrainOptions o;
    static char why[256];
    train_options_default(&o);
    why[0] = '\0';
    if (name) {
        const TrainOption *opt = train_option_find(name);
        ck_assert_ptr_nonnull(opt);
        ck_assert_msg(train_option_set(&o, opt, value, why, sizeof why) == 0, "%s", why);
    }
    train_options_check(&o, why, sizeof why);
    return why;
}

START_TEST(test_option_ranges) {
    static const struct {
        const char *name, *value, *expect;  // expect "": accepted
    } cases[] = {
        {"clip", "-1", "--clip must be > 0 (got -1)"},
        {"clip", "0", "--clip must be > 0 (got 0)"},
        {"clip", "1.5", ""},
        {"lr", "0", "--lr must be > 0 (got 0)"},
        {"comm-timeout", "0", "--comm-timeout must be > 0 (got 0)"},
        {"seq-len", "0", "--seq-len must be >= 1 (got 0)"},
        {"seq-len", "-4", "--seq-len must be >= 1 (got -4)"},
        {"warmup", "-1", "--warmup must be >= 0 (got -1)"},
        {"warmup", "0", ""},
        {"eval-every", "0", "--eval-every must be >= 1 (got 0)"},
        {"ckpt-every", "-2", "--ckpt-every must be >= 1 (got -2)"},
        {"stop-after", "0", "--stop-after must be >= 1 (got 0)"},
        {"batch", "0", "--batch must be >= 1 (got 0)"},
        {"weight-decay", "-0.1", "--weight-decay must be >= 0 (got -0.1)"},
    };
    ck_assert_str_eq(check_with(NULL, NULL), "");  // every default is in range
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        ck_assert_msg(!strcmp(check_with(cases[k].name, cases[k].value), cases[k].expect),
                      "--%s %s: got '%s', want '%s'", cases[k].name, cases[k].value,
                      check_with(cases[k].name, cases[k].value), cases[k].expect);
}
END_TEST

// A fake device: 300 MB of fixed workspaces plus 2.5 MB per row.
static MemoryPoint fake_measure(int rows) { return (MemoryPoint){rows, 300e6 + 2.5e6 * rows}; }

START_TEST(test_memory_probe_uses_the_slope) {
    MemoryPoint a = fake_measure(16), b = fake_measure(32);
    ck_assert_double_eq_tol(memory_predict_bytes(a, b, 512), fake_measure(512).bytes, 1);
    ck_assert_double_eq_tol(memory_predict_bytes(b, a, 512), fake_measure(512).bytes, 1);
    // Scaling the small point alone would have predicted 16x 340 MB = 5.4 GB for 1.58 GB.
    ck_assert_double_lt(memory_predict_bytes(a, b, 256), 0.5 * a.bytes * 256 / 16);
    // The largest multiple of 16 rows within 1 GB: (1e9 - 300e6) / 2.5e6 = 280 rows.
    ck_assert_int_eq(memory_max_rows(a, b, 1e9, 16), 272);
    ck_assert_int_eq(memory_max_rows(a, b, 1e9, 1), 280);
    ck_assert_int_eq(memory_max_rows(a, b, 250e6, 16), 0);  // not even the fixed part fits
}
END_TEST

START_TEST(test_memory_probe_without_growth) {
    MemoryPoint a = {16, 400e6}, b = {32, 399e6};  // noise: the larger batch looked smaller
    ck_assert_double_eq(memory_predict_bytes(a, b, 4096), 400e6);
    ck_assert_int_eq(memory_max_rows(a, b, 1e9, 16), INT_MAX);
    ck_assert_int_eq(memory_max_rows(a, b, 1e8, 16), 0);
}
END_TEST

static char dir[] = "/tmp/mot-test-trainer-units-XXXXXX";

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void expect_text(const char *path, const char *want) {
    char got[1024] = "";
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    got[fread(got, 1, sizeof got - 1, f)] = '\0';
    fclose(f);
    ck_assert_str_eq(got, want);
}

// After a kill the header may be missing or the file empty: resuming re-creates the
// header and keeps every data row up to the checkpoint (and no torn last line).
START_TEST(test_resume_repairs_csv_headers) {
    static const struct {
        const char *before, *after;
    } cases[] = {
        {"", "step,tokens,eval_loss,mode\n"},
        {"4,128,5.5,dense\n8,256,5.1,dense\n12,384,4.9,dense\n",
         "step,tokens,eval_loss,mode\n4,128,5.5,dense\n8,256,5.1,dense\n"},
        {"step,tokens,eval_loss,mode\n4,128,5.5,dense\n9,288,5.0,dense\n",
         "step,tokens,eval_loss,mode\n4,128,5.5,dense\n"},
        {"step,tokens,eval_loss,mode\n4,128,5.5,dense\n8,2", "step,tokens,eval_loss,mode\n4,128,5.5,dense\n"},
    };
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/" RUNDIR_EVAL, dir);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_text(path, cases[k].before);
        ck_assert_msg(csv_keep_rows_upto(path, 8, N_EVAL_COLS, EVAL_COLS, err, sizeof err) == 0, "%s", err);
        expect_text(path, cases[k].after);
    }
    remove(path);  // a missing file is created with its header
    ck_assert_msg(csv_keep_rows_upto(path, 8, N_EVAL_COLS, EVAL_COLS, err, sizeof err) == 0, "%s", err);
    expect_text(path, "step,tokens,eval_loss,mode\n");
}
END_TEST

START_TEST(test_csv_create_writes_the_header) {
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/" RUNDIR_METRICS, dir);
    write_text(path, "old,content\n");
    ck_assert_msg(csv_create(path, N_EVAL_COLS, EVAL_COLS, err, sizeof err) == 0, "%s", err);
    expect_text(path, "step,tokens,eval_loss,mode\n");
}
END_TEST

int main(void) {
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    Suite *s = suite_create("trainer_units");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, test_numbers_are_the_whole_text);
    tcase_add_test(tc, test_floats_must_be_finite);
    tcase_add_test(tc, test_option_ranges);
    tcase_add_test(tc, test_memory_probe_uses_the_slope);
    tcase_add_test(tc, test_memory_probe_without_growth);
    tcase_add_test(tc, test_resume_repairs_csv_headers);
    tcase_add_test(tc, test_csv_create_writes_the_header);
    suite_add_tcase(s, tc);
    int rc = test_run_suite(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
