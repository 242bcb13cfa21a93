// The main job end to end, as CI runs it: `./run_all.sh --scale tiny fig-params`
// trains the five fig-params runs on the bundled C4 sample, renders the figure
// and prints one diff row per fig-params claim.
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "kernels/base/fileio.h"
#include "testutil.h"

// A fresh folder under $TMPDIR (default /tmp): concurrent runs never share it.
static char RESULTS[PATH_MAX];

START_TEST(test_run_all_fig_params_tiny) {
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "./run_all.sh --scale tiny --seeds 1 fig-params --results %s/results > %s/log 2>&1",
             RESULTS, RESULTS);
    int status = system(cmd);
    snprintf(cmd, sizeof cmd, "%s/log", RESULTS);
    size_t len = 0;
    char err[512];
    char *log = read_file(cmd, &len, err, sizeof err);
    ck_assert_msg(log != NULL, "%s", err);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run_all.sh failed; log:\n%s", log);
    // One diff row per fig-params claim of experiments/published.csv, each measured and,
    // tiny being the smoke scale, marked "smoke": never holds or fails.
    static const char *claims[] = {"every MoT beats dense", "more experts is better",
                                   "uniform routing is worse than learned"};
    for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
        const char *row = strstr(log, claims[i]);
        ck_assert_msg(row != NULL, "diff lacks the claim '%s'", claims[i]);
        const char *eol = strchr(row, '\n');
        // The row: claim, published ("holds" for these claims), verdict, measurement.
        char published[16] = "", verdict[16] = "";
        sscanf(row + strlen(claims[i]), "%15s %15s", published, verdict);
        ck_assert_msg(!strcmp(published, "holds") && !strcmp(verdict, "smoke") &&
                          strstr(row, " diff ") && strstr(row, " diff ") < eol,
                      "claim '%s' should be measured and marked smoke: %.*s", claims[i],
                      (int)(eol - row), row);
    }
    free(log);
    // The figure: a real PNG.
    snprintf(cmd, sizeof cmd, "%s/results/fig-params-tiny/fig-params.png", RESULTS);
    char *png = read_file(cmd, &len, err, sizeof err);
    ck_assert_msg(png && len > 1000 && !memcmp(png, "\x89PNG", 4), "%s missing or not a PNG", cmd);
    free(png);
    // Every run finished.
    snprintf(cmd, sizeof cmd, "grep -c ',finished,' %s/results/fig-params-tiny/summary.csv | grep -qx 5",
             RESULTS);
    ck_assert_msg(system(cmd) == 0, "summary.csv should list 5 finished runs");
}
END_TEST

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(RESULTS, sizeof RESULTS, "%s/mot-test-run-all-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(RESULTS)) {
        perror(RESULTS);
        return 1;
    }
    Suite *s = suite_create("run_all");
    TCase *tc = tcase_create("e2e");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, test_run_all_fig_params_tiny);
    suite_add_tcase(s, tc);
    int rc = test_run_suite(s);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", RESULTS);
    if (rc == 0 && system(cmd) != 0) fprintf(stderr, "test_run_all: could not remove %s\n", RESULTS);
    return rc;
}
