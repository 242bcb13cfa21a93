// The foundation (kernels/base/): atomic writes, whole-file reads, the FNV-1a hash,
// error formatting and the monotonic clock.
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kernels/base/clock.h"
#include "kernels/base/error.h"
#include "kernels/base/fileio.h"
#include "kernels/base/hash.h"
#include "tests/testutil.h"

static char dir[64];
static char path[128];  // dir/out.txt

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/test_base.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.txt", dir);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

// Entries of dir other than out.txt: temporary files an atomic write left behind.
static size_t stray_files(void) {
    char pattern[160];
    snprintf(pattern, sizeof pattern, "%s/*", dir);
    glob_t g;
    size_t n = 0;
    if (glob(pattern, 0, NULL, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; i++) n += strcmp(g.gl_pathv[i], path) != 0;
    globfree(&g);
    return n;
}

static void assert_content(const char *want) {
    char err[256] = "";
    size_t size;
    char *got = read_file(path, &size, err, sizeof err);
    ck_assert_msg(got, "%s", err);
    ck_assert_uint_eq(size, strlen(want));
    ck_assert_str_eq(got, want);  // read_file NUL-terminates
    free(got);
}

START_TEST(atomic_write_buffer_replaces_the_file) {
    char err[256] = "";
    ck_assert_msg(!atomic_write_buffer(path, "first", 5, err, sizeof err), "%s", err);
    assert_content("first");
    ck_assert_msg(!atomic_write_buffer(path, "second version", 14, err, sizeof err), "%s", err);
    assert_content("second version");
    ck_assert_uint_eq(stray_files(), 0);
}
END_TEST

static int write_lines(FILE *f, void *ctx, char *err, size_t errlen) {
    (void)err, (void)errlen;
    for (int i = 0; i < *(int *)ctx; i++) fprintf(f, "line %d\n", i);
    return 0;
}

static int refuse(FILE *f, void *ctx, char *err, size_t errlen) {
    fputs("half written", f);
    return errorf(err, errlen, "refused after %d bytes", *(int *)ctx);
}

START_TEST(atomic_write_callback_and_its_failure) {
    char err[256] = "";
    int n = 3;
    ck_assert_msg(!atomic_write(path, write_lines, &n, err, sizeof err), "%s", err);
    assert_content("line 0\nline 1\nline 2\n");
    // A writer that fails leaves the previous content and no temporary file.
    ck_assert_int_eq(atomic_write(path, refuse, &n, err, sizeof err), -1);
    ck_assert_str_eq(err, "refused after 3 bytes");
    assert_content("line 0\nline 1\nline 2\n");
    ck_assert_uint_eq(stray_files(), 0);
}
END_TEST

START_TEST(atomic_open_gives_each_writer_its_own_file) {
    char err[256] = "";
    AtomicFile a, b;
    ck_assert_msg(!atomic_open(&a, path, err, sizeof err), "%s", err);
    ck_assert_msg(!atomic_open(&b, path, err, sizeof err), "%s", err);
    ck_assert_str_ne(a.tmp_path, b.tmp_path);
    fputs("from a", a.f);
    fputs("from b", b.f);
    ck_assert_msg(!atomic_commit(&b, err, sizeof err), "%s", err);
    assert_content("from b");
    atomic_abort(&a);
    atomic_abort(&a);  // twice is harmless
    assert_content("from b");
    ck_assert_uint_eq(stray_files(), 0);
}
END_TEST

START_TEST(atomic_write_into_a_missing_directory_names_the_path) {
    char err[256] = "", bad[192];
    snprintf(bad, sizeof bad, "%s/missing/out.txt", dir);
    ck_assert_int_eq(atomic_write_buffer(bad, "x", 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad) && strstr(err, "cannot create") &&
                      strstr(err, "No such file or directory"),
                  "%s", err);
}
END_TEST

START_TEST(atomic_write_past_a_size_limit_keeps_the_old_file) {
    char err[256] = "";
    ck_assert_msg(!atomic_write_buffer(path, "old", 3, err, sizeof err), "%s", err);
    // A file size limit fails the write with EFBIG (SIGXFSZ ignored), even as root.
    static char big[16384];
    struct rlimit saved;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = {.rlim_cur = 4096, .rlim_max = saved.rlim_max};
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = atomic_write_buffer(path, big, sizeof big, err, sizeof err);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err, "write failed") && strstr(err, "File too large"), "%s", err);
    assert_content("old");
    ck_assert_uint_eq(stray_files(), 0);
}
END_TEST

START_TEST(read_file_reads_everything_or_names_the_path) {
    char err[256] = "";
    // Larger than read_file's first buffer, so it has to grow.
    size_t n = 200000;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (char)('a' + i % 26);
    ck_assert_msg(!atomic_write_buffer(path, data, n, err, sizeof err), "%s", err);
    size_t size;
    char *got = read_file(path, &size, err, sizeof err);
    ck_assert_msg(got, "%s", err);
    ck_assert_uint_eq(size, n);
    ck_assert(!memcmp(got, data, n) && got[n] == '\0');
    free(got);
    free(data);

    char missing[192];
    snprintf(missing, sizeof missing, "%s/missing.txt", dir);
    ck_assert_ptr_null(read_file(missing, &size, err, sizeof err));
    ck_assert_msg(strstr(err, missing) && strstr(err, "cannot open"), "%s", err);
}
END_TEST

START_TEST(hash64_is_fnv1a) {
    // Reference values of FNV-1a 64 (the published test vectors).
    ck_assert_uint_eq(hash64("", 0, HASH64_INIT), 0xcbf29ce484222325ull);
    ck_assert_uint_eq(hash64("a", 1, HASH64_INIT), 0xaf63dc4c8601ec8cull);
    ck_assert_uint_eq(hash64("foobar", 6, HASH64_INIT), 0x85944171f73967e8ull);
    // Chaining equals hashing the concatenation.
    ck_assert_uint_eq(hash64("bar", 3, hash64("foo", 3, HASH64_INIT)),
                      hash64("foobar", 6, HASH64_INIT));
}
END_TEST

START_TEST(error_formatting) {
    char err[64];
    ck_assert_int_eq(errorf(err, sizeof err, "bad %s: %d", "value", 7), -1);
    ck_assert_str_eq(err, "bad value: 7");
    ck_assert_int_eq(error_at(err, sizeof err, "x.yaml", 12, "unknown key '%s'", "lr"), -1);
    ck_assert_str_eq(err, "x.yaml:12: unknown key 'lr'");
    error_at(err, sizeof err, "x.csv", 0, "empty");
    ck_assert_str_eq(err, "x.csv: empty");
    // Truncated, never overflowing.
    char small[8];
    error_at(small, sizeof small, "long/path/name", 3, "message");
    ck_assert_str_eq(small, "long/pa");
}
END_TEST

START_TEST(monotonic_clock_advances) {
    double s0 = monotonic_seconds();
    int64_t n0 = monotonic_ns();
    usleep(20000);
    double ds = monotonic_seconds() - s0;
    double dn = (double)(monotonic_ns() - n0) * 1e-9;
    ck_assert_msg(ds >= 0.019 && ds < 5, "%g", ds);
    ck_assert_msg(dn >= 0.019 && dn < 5, "%g", dn);
}
END_TEST

int main(void) {
    Suite *s = suite_create("base");
    TCase *tc = tcase_create("base");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, atomic_write_buffer_replaces_the_file);
    tcase_add_test(tc, atomic_write_callback_and_its_failure);
    tcase_add_test(tc, atomic_open_gives_each_writer_its_own_file);
    tcase_add_test(tc, atomic_write_into_a_missing_directory_names_the_path);
    tcase_add_test(tc, atomic_write_past_a_size_limit_keeps_the_old_file);
    tcase_add_test(tc, read_file_reads_everything_or_names_the_path);
    tcase_add_test(tc, hash64_is_fnv1a);
    tcase_add_test(tc, error_formatting);
    tcase_add_test(tc, monotonic_clock_advances);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
