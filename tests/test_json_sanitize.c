// datasets/json_sanitize.c: the bytes of C4 lines that jansson refuses, rewritten
// as Python's decoder (errors="replace") cuts them, one U+FFFD per defect; valid
// text and valid escapes untouched. (tests/test_loader.c reads such lines whole.)
#include <string.h>

#include "datasets/json_sanitize.h"
#include "kernels/base/check.h"
#include "tests/testutil.h"

// Bytes in, bytes out: each defect becomes one U+FFFD, the rest is untouched.
START_TEST(sanitizer_replaces_what_cannot_be_decoded) {
    static const struct { const char *in, *out; } cases[] = {
        {"caf\xc3\xa9 \xf0\x9f\x98\x80 ok", "caf\xc3\xa9 \xf0\x9f\x98\x80 ok"},  // valid: as is
        {"a\xff" "b\xfe", "a\xef\xbf\xbd" "b\xef\xbf\xbd"},
        {"\xe2\x82" "x", "\xef\xbf\xbd" "x"},  // a cut sequence is one subpart
        {"\xe2\x82", "\xef\xbf\xbd"},          // ... also at the end of the line
        {"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},  // overlong
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // UTF-8-encoded surrogate
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  // > U+10FFFF
        {"x\\ud800y", "x\\uFFFDy"},
        {"\\uDC00\\ud800", "\\uFFFD\\uFFFD"},  // a low before a high is no pair
        {"\\ud800\\u0041", "\\uFFFD\\u0041"},
        {"\\ud83d\\ude00 \\u00e9", "\\ud83d\\ude00 \\u00e9"},  // a pair, a plain escape
        {"\\\\ud800", "\\\\ud800"},  // an escaped backslash, then plain text
        {"\\ud80", "\\ud80"},        // not an escape jansson accepts either: left to it
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in);
        char *out = mallocCheck(3 * n);
        size_t got = json_sanitize_line(cases[i].in, n, out);
        ck_assert_msg(got == strlen(cases[i].out) && !memcmp(out, cases[i].out, got),
                      "case %zu: '%.*s'", i, (int)got, out);
        free(out);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("json_sanitize");
    TCase *tc = tcase_create("sanitize");
    tcase_add_test(tc, sanitizer_replaces_what_cannot_be_decoded);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
