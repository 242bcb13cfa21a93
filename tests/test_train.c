// `suite train` / `suite eval` end to end through the real binary on the bundled
// C4 sample: the eval loss falls, a resumed run logs exactly the losses of an
// uninterrupted one, and bad input gives one clear line and a non-zero exit.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "suite/csvio.h"
#include "testutil.h"

static const char *suite_bin(void) {
    const char *s = getenv("MOT_SUITE");
    return s ? s : "build/suite";
}

// Runs `suite ARGS`, returns its exit status; stderr goes to *err_out (static).
static int run_suite(const char *args, const char **err_out) {
    static char err[4096];
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>/tmp/mot_test_stderr >/tmp/mot_test_stdout", suite_bin(), args);
    int status = system(cmd);
    FILE *f = fopen("/tmp/mot_test_stderr", "r");
    size_t n = f ? fread(err, 1, sizeof err - 1, f) : 0;
    err[n] = '\0';
    if (f) fclose(f);
    if (err_out) *err_out = err;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

typedef struct {
    char rows[64][160];
    int n;
    int column;
} Column;

static int take_column(char **fields, int n, long line, void *user) {
    Column *c = user;
    if (line > 1 && c->column < n && c->n < 64)
        snprintf(c->rows[c->n++], sizeof c->rows[0], "%s:%s", fields[0], fields[c->column]);
    return 0;
}

static Column read_column(const char *path, int column) {
    Column c = {.column = column};
    char err[512];
    ck_assert_msg(csv_read(path, take_column, &c, err, sizeof err) == 0, "%s", err);
    return c;
}

#define TINY "--model transformer-tiny --batch 8 --seq-len 32 --eval-batches 2 --quiet"

START_TEST(test_eval_loss_falls_on_c4) {
    const char *err;
    system("rm -rf /tmp/mot_t_falls");
    ck_assert_msg(run_suite("train " TINY " --steps 40 --eval-every 20 --out /tmp/mot_t_falls", &err) == 0, "%s", err);
    Column c = read_column("/tmp/mot_t_falls/eval.csv", 2);
    ck_assert_int_eq(c.n, 2);
    double first = atof(strchr(c.rows[0], ':') + 1), last = atof(strchr(c.rows[1], ':') + 1);
    ck_assert_msg(first < 10.5 && last < first - 0.3, "eval loss %.4f -> %.4f should fall", first, last);
}
END_TEST

START_TEST(test_resume_gives_the_same_losses) {
    const char *err;
    system("rm -rf /tmp/mot_t_full /tmp/mot_t_resumed");
    const char *common = "train " TINY " --steps 16 --eval-every 4 --ckpt-every 5";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --out /tmp/mot_t_full", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    // Interrupted after step 12 (checkpoint at 10), then resumed: steps 11-12 are redone.
    snprintf(cmd, sizeof cmd, "%s --out /tmp/mot_t_resumed --stop-after 12", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    snprintf(cmd, sizeof cmd, "%s --out /tmp/mot_t_resumed --resume", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    Column full = read_column("/tmp/mot_t_full/metrics.csv", 1);
    Column resumed = read_column("/tmp/mot_t_resumed/metrics.csv", 1);
    ck_assert_int_eq(full.n, 16);
    ck_assert_int_eq(resumed.n, 16);
    for (int i = 0; i < 16; i++) ck_assert_str_eq(full.rows[i], resumed.rows[i]);
    Column full_eval = read_column("/tmp/mot_t_full/eval.csv", 2);
    Column resumed_eval = read_column("/tmp/mot_t_resumed/eval.csv", 2);
    ck_assert_int_eq(full_eval.n, resumed_eval.n);
    for (int i = 0; i < full_eval.n; i++) ck_assert_str_eq(full_eval.rows[i], resumed_eval.rows[i]);
}
END_TEST

// Every bad input: exit code 1 or 2 and a one-line message with the key words.
START_TEST(test_bad_input_gives_one_clear_line) {
    static const struct {
        const char *args, *expect;
    } cases[] = {
        {"train --model transformer-huge --out /tmp/mot_t_bad", "unknown model 'transformer-huge'"},
        {"train --model transformer-tiny --batch 0 --out /tmp/mot_t_bad", "--batch must be >= 1"},
        {"train --model transformer-tiny --batch -4 --out /tmp/mot_t_bad", "--batch must be >= 1"},
        {"train --model transformer-tiny --lr 0 --out /tmp/mot_t_bad", "--lr must be > 0"},
        {"train --model transformer-tiny --lr -1e-3 --out /tmp/mot_t_bad", "--lr must be > 0"},
        {"train --model transformer-tiny --steps 2 --train-data /nonexistent/shard.jsonl --out /tmp/mot_t_bad",
         "/nonexistent/shard.jsonl"},
        {"train --model mot-tiny/32e --batch 48 --seq-len 8 --steps 1 --out /tmp/mot_t_bad", "does not divide batch B=48"},
        {"train --model transformer-tiny --precision fp8", "--precision must be fp32, mixed or bf16"},
        {"train --model transformer-tiny --stpes 3", "unknown option '--stpes'"},
        {"eval --ckpt /nonexistent.safetensors", "/nonexistent.safetensors"},
        {"eval --ckpt /tmp/mot_t_truncated.safetensors", "/tmp/mot_t_truncated.safetensors"},
        {"params --model mot-medium/xe", "unknown model 'mot-medium/xe'"},
    };
    // A checkpoint cut in half.
    system("head -c 100000 /tmp/mot_t_falls/ckpt.safetensors > /tmp/mot_t_truncated.safetensors");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *err;
        int rc = run_suite(cases[i].args, &err);
        ck_assert_msg(rc == 1 || rc == 2, "suite %s: exit %d (want 1 or 2), stderr: %s", cases[i].args, rc, err);
        ck_assert_msg(strstr(err, cases[i].expect) != NULL, "suite %s: stderr lacks '%s': %s", cases[i].args,
                      cases[i].expect, err);
        const char *nl = strchr(err, '\n');
        ck_assert_msg(nl && nl[1] == '\0', "suite %s: want exactly one line, got: %s", cases[i].args, err);
    }
}
END_TEST

START_TEST(test_eval_of_a_checkpoint_matches_training_eval_data) {
    const char *err;
    ck_assert_msg(run_suite("eval --ckpt /tmp/mot_t_falls/ckpt.safetensors --batch 4 --seq-len 32 --batches 3", &err) == 0,
                  "%s", err);
    FILE *f = fopen("/tmp/mot_test_stdout", "r");
    char line[512] = "";
    ck_assert(f && fgets(line, sizeof line, f));
    fclose(f);
    double loss = 0;
    ck_assert_msg(sscanf(line, "eval loss %lf", &loss) == 1, "%s", line);
    ck_assert_msg(loss > 3 && loss < 10.5, "%s", line);
    ck_assert_msg(strstr(line, "384 tokens") && strstr(line, "c4-sample"), "%s", line);
}
END_TEST

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static int file_contains(const char *path, const char *needle) {
    char text[2048] = "";
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return strstr(text, needle) != NULL;
}

// Two good steps and a checkpoint, then the run resumes with an LR of 1e30: the
// first update blows the weights up, so the next loss is not finite. The run
// must stop with exit 3, record the step, and keep the step-2 checkpoint intact.
START_TEST(test_divergence_is_recorded) {
    const char *err;
    system("rm -rf /tmp/mot_t_diverged");
    const char *common = "train " TINY " --steps 8 --eval-every 2 --warmup 0 --out /tmp/mot_t_diverged";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --stop-after 2", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    long good_size = file_size("/tmp/mot_t_diverged/ckpt.safetensors");
    ck_assert_int_gt(good_size, 0);
    system("cp /tmp/mot_t_diverged/ckpt.safetensors /tmp/mot_t_diverged_good.safetensors");
    snprintf(cmd, sizeof cmd, "%s --resume --lr 1e30", common);
    int rc = run_suite(cmd, &err);
    ck_assert_msg(rc == 3, "exit %d, want 3 (diverged): %s", rc, err);
    ck_assert_msg(strstr(err, "diverged: non-finite") && strstr(err, "last good checkpoint kept"), "%s", err);
    const char *status = "/tmp/mot_t_diverged/status.json";
    ck_assert_msg(file_contains(status, "\"status\": \"diverged\""), "status.json does not say diverged");
    ck_assert_msg(file_contains(status, "\"diverged_at\": 4"), "status.json should name step 4");
    ck_assert_int_eq(system("cmp -s /tmp/mot_t_diverged/ckpt.safetensors /tmp/mot_t_diverged_good.safetensors"), 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_eval_loss_falls_on_c4);
    tcase_add_test(tc, test_resume_gives_the_same_losses);
    tcase_add_test(tc, test_bad_input_gives_one_clear_line);
    tcase_add_test(tc, test_eval_of_a_checkpoint_matches_training_eval_data);
    tcase_add_test(tc, test_divergence_is_recorded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);  // tests run in order: later ones use the first run
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
