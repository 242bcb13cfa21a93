// `suite train` / `suite eval` end to end through the real binary on the bundled
// C4 sample: the eval loss falls, a resumed run logs exactly the losses of an
// uninterrupted one, and bad input gives one clear line and a non-zero exit; a kill
// before the first eval, a second trainer on the same directory and a failed
// resume each leave a run directory the lab reads correctly.
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite/csvio.h"
#include "suite/lab/results.h"
#include "suite/rundir.h"
#include "testutil.h"

static const char *suite_bin(void) {
    const char *s = getenv("MOT_SUITE");
    return s ? s : "build/suite";
}

// Every file of this test lives in one fresh folder under $TMPDIR (default /tmp),
// so concurrent test runs never share a path.
static char SCRATCH[PATH_MAX];

// SCRATCH/name (static buffers, four in rotation: several can be in use at once).
static const char *scratch(const char *name) {
    static char paths[4][PATH_MAX + 64];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, PATH_MAX + 64, "%s/%s", SCRATCH, name);
    return p;
}

// Runs `suite ARGS`, returns its exit status; stderr goes to *err_out (static).
static int run_suite(const char *args, const char **err_out) {
    static char err[4096];
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>%s/stderr >%s/stdout", suite_bin(), args, SCRATCH, SCRATCH);
    int status = system(cmd);
    FILE *f = fopen(scratch("stderr"), "r");
    size_t n = f ? fread(err, 1, sizeof err - 1, f) : 0;
    err[n] = '\0';
    if (f) fclose(f);
    if (err_out) *err_out = err;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int file_contains(const char *path, const char *needle);

// "step:value" of one column, found by its header name as the lab reads it.
typedef struct {
    char rows[64][160];
    int n;
    const char *name;
    int column;
} Column;

static int take_column(char **fields, int n, long line, void *user) {
    Column *c = user;
    if (line == 1)
        for (int i = 0; i < n; i++)
            if (!strcmp(fields[i], c->name)) c->column = i;
    if (line > 1 && c->column >= 0 && c->column < n && c->n < 64)
        snprintf(c->rows[c->n++], sizeof c->rows[0], "%s:%s", fields[0], fields[c->column]);
    return 0;
}

static Column read_column(const char *dir, const char *file, const char *name) {
    Column c = {.name = name, .column = -1};
    char err[512], path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ck_assert_msg(csv_read(path, take_column, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(c.column >= 0, "%s has no column %s", path, name);
    return c;
}

#define TINY "--model transformer-tiny --batch 8 --seq-len 32 --eval-batches 2 --quiet"

START_TEST(test_eval_loss_falls_on_c4) {
    const char *err;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "train " TINY " --steps 40 --eval-every 20 --out %s", scratch("falls"));
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    Column c = read_column(scratch("falls"), RUNDIR_EVAL, "eval_loss");
    ck_assert_int_eq(c.n, 2);
    double first = atof(strchr(c.rows[0], ':') + 1), last = atof(strchr(c.rows[1], ':') + 1);
    ck_assert_msg(first < 10.5 && last < first - 0.3, "eval loss %.4f -> %.4f should fall", first, last);
}
END_TEST

START_TEST(test_resume_gives_the_same_losses) {
    const char *err;
    const char *common = "train " TINY " --steps 16 --eval-every 4 --ckpt-every 5 --final-lr-frac 0.3";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --out %s", common, scratch("full"));
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    // Interrupted after step 12 (checkpoint at 10), then resumed: steps 11-12 are redone.
    snprintf(cmd, sizeof cmd, "%s --out %s --stop-after 12", common, scratch("resumed"));
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    snprintf(cmd, sizeof cmd, "%s --out %s --resume", common, scratch("resumed"));
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    Column full = read_column(scratch("full"), RUNDIR_METRICS, "loss");
    Column resumed = read_column(scratch("resumed"), RUNDIR_METRICS, "loss");
    ck_assert_int_eq(full.n, 16);
    ck_assert_int_eq(resumed.n, 16);
    for (int i = 0; i < 16; i++) ck_assert_str_eq(full.rows[i], resumed.rows[i]);
    Column full_eval = read_column(scratch("full"), RUNDIR_EVAL, "eval_loss");
    Column resumed_eval = read_column(scratch("resumed"), RUNDIR_EVAL, "eval_loss");
    ck_assert_int_eq(full_eval.n, resumed_eval.n);
    for (int i = 0; i < full_eval.n; i++) ck_assert_str_eq(full_eval.rows[i], resumed_eval.rows[i]);
}
END_TEST

// config.json records a given value as written (0.3, not the float 0.30000001192092896),
// a default at its shortest (0.5), and derived defaults resolved (seq_len, warmup).
START_TEST(test_config_records_values_as_given) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/" RUNDIR_CONFIG, scratch("full"));
    static const char *const expected[] = {"\"final_lr_frac\": 0.3,", "\"clip\": 0.5,",
                                           "\"seq_len\": 32,", "\"warmup\": 1,", "\"batch\": 8,"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        ck_assert_msg(file_contains(path, expected[i]), "%s lacks %s", path, expected[i]);
    ck_assert_msg(!file_contains(path, "\"quiet\""), "--quiet does not change results: not in %s", path);
}
END_TEST

// text with every '@' replaced by the scratch folder.
static void expand(const char *text, char *out, size_t len) {
    size_t k = 0;
    for (const char *c = text; *c && k + 1 < len; c++) {
        if (*c != '@') {
            out[k++] = *c;
            continue;
        }
        k += snprintf(out + k, len - k, "%s", SCRATCH);
        if (k >= len) k = len - 1;
    }
    out[k] = '\0';
}

// Every bad input: exit code 1 or 2 and a one-line message with the key words.
START_TEST(test_bad_input_gives_one_clear_line) {
    static const struct {
        const char *args, *expect;  // '@': the scratch folder
    } cases[] = {
        {"train --model transformer-huge --out @/bad", "unknown model 'transformer-huge'"},
        {"train --model transformer-tiny --batch 0 --out @/bad", "--batch must be >= 1"},
        {"train --model transformer-tiny --batch -4 --out @/bad", "--batch must be >= 1"},
        {"train --model transformer-tiny --lr 0 --out @/bad", "--lr must be > 0"},
        {"train --model transformer-tiny --lr -1e-3 --out @/bad", "--lr must be > 0"},
        {"train --model transformer-tiny --steps 2 --train-data /nonexistent/shard.jsonl --out @/bad",
         "/nonexistent/shard.jsonl"},
        {"train --model mot-tiny/32e --batch 48 --seq-len 8 --steps 1 --out @/bad", "does not divide batch B=48"},
        {"train --model transformer-tiny --precision fp8", "--precision: 'fp8' is not one of fp32|mixed|bf16"},
        {"train --model transformer-tiny --steps ten", "--steps: 'ten' is not an integer"},
        {"train --model transformer-tiny --stpes 3", "unknown option '--stpes'"},
        {"eval --ckpt /nonexistent.safetensors", "/nonexistent.safetensors"},
        {"eval --ckpt @/truncated.safetensors", "@/truncated.safetensors"},
        {"params --model mot-medium/xe", "unknown model 'mot-medium/xe'"},
    };
    // A checkpoint cut in half.
    char cmd[PATH_MAX * 2 + 64], args[1024], expect[1024];
    snprintf(cmd, sizeof cmd, "head -c 100000 %s/falls/" RUNDIR_CKPT " > %s/truncated.safetensors", SCRATCH,
             SCRATCH);
    ck_assert_int_eq(system(cmd), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *err;
        expand(cases[i].args, args, sizeof args);
        expand(cases[i].expect, expect, sizeof expect);
        int rc = run_suite(args, &err);
        ck_assert_msg(rc == 1 || rc == 2, "suite %s: exit %d (want 1 or 2), stderr: %s", args, rc, err);
        ck_assert_msg(strstr(err, expect) != NULL, "suite %s: stderr lacks '%s': %s", args, expect, err);
        const char *nl = strchr(err, '\n');
        ck_assert_msg(nl && nl[1] == '\0', "suite %s: want exactly one line, got: %s", args, err);
    }
}
END_TEST

START_TEST(test_eval_of_a_checkpoint_matches_training_eval_data) {
    const char *err;
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "eval --ckpt %s/" RUNDIR_CKPT " --batch 4 --seq-len 32 --batches 3", scratch("falls"));
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    FILE *f = fopen(scratch("stdout"), "r");
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
    char text[8192] = "";
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
    char common[PATH_MAX + 128], cmd[PATH_MAX + 256];
    const char *dir = scratch("diverged");
    snprintf(common, sizeof common, "train " TINY " --steps 8 --eval-every 2 --warmup 0 --out %s", dir);
    snprintf(cmd, sizeof cmd, "%s --stop-after 2", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    snprintf(cmd, sizeof cmd, "%s/" RUNDIR_CKPT, dir);
    ck_assert_int_gt(file_size(cmd), 0);
    snprintf(cmd, sizeof cmd, "cp %s/" RUNDIR_CKPT " %s/good.safetensors", dir, SCRATCH);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --resume --lr 1e30", common);
    int rc = run_suite(cmd, &err);
    ck_assert_msg(rc == RUN_EXIT_DIVERGED, "exit %d, want 3 (diverged): %s", rc, err);
    ck_assert_msg(strstr(err, "diverged: non-finite") && strstr(err, "last good checkpoint kept"), "%s", err);
    char status[PATH_MAX + 32];
    snprintf(status, sizeof status, "%s/" RUNDIR_STATUS, dir);
    ck_assert_msg(file_contains(status, "\"status\": \"diverged\""), "status.json does not say diverged");
    ck_assert_msg(file_contains(status, "\"diverged_at\": 4"), "status.json should name step 4");
    snprintf(cmd, sizeof cmd, "cmp -s %s/" RUNDIR_CKPT " %s/good.safetensors", dir, SCRATCH);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

// A kill before the first eval leaves eval.csv empty (and may cost metrics.csv its
// header): --resume writes the headers again and keeps the data rows, so the lab
// reads a whole eval curve.
START_TEST(test_resume_repairs_lost_csv_headers) {
    const char *err;
    const char *dir = scratch("headerless");
    char common[PATH_MAX + 128], cmd[PATH_MAX * 2 + 128];
    snprintf(common, sizeof common, "train " TINY " --steps 8 --eval-every 4 --ckpt-every 2 --out %s", dir);
    snprintf(cmd, sizeof cmd, "%s --stop-after 2", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    snprintf(cmd, sizeof cmd, ": > %s/" RUNDIR_EVAL " && sed -i 1d %s/" RUNDIR_METRICS, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s --resume", common);
    ck_assert_msg(run_suite(cmd, &err) == 0, "%s", err);
    ResultSet rs = {0};
    char why[1024];
    ck_assert_msg(results_collect_run(&rs, dir, "headerless", 1, "transformer-tiny", "tiny", why, sizeof why) == 0,
                  "%s", why);
    ck_assert_int_eq(rs.n_evals, 2);
    for (int i = 0; i < rs.n_evals; i++) {
        ck_assert_int_eq(rs.evals[i].step, 4 * (i + 1));
        ck_assert_msg(isfinite(rs.evals[i].loss) && rs.evals[i].loss > 1, "eval %d: loss %g", i, rs.evals[i].loss);
    }
    results_free(&rs);
    ck_assert_int_eq(read_column(dir, RUNDIR_METRICS, "loss").n, 8);  // rows 1-2 kept, 3-8 added
}
END_TEST

// While one trainer holds a run directory (here: this test, holding DIR/.lock as
// a trainer does) a second stops at once, naming the holder's pid, and touches
// nothing. A finished run leaves its directory free.
START_TEST(test_second_trainer_on_a_directory_stops) {
    const char *err;
    const char *dir = scratch("locked");
    char path[PATH_MAX + 64], cmd[PATH_MAX + 256], want[64];
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/" RUNDIR_LOCK, dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
    ck_assert_int_gt(dprintf(fd, "%ld\n", (long)getpid()), 0);
    snprintf(cmd, sizeof cmd, "train " TINY " --steps 2 --out %s", dir);
    int rc = run_suite(cmd, &err);
    close(fd);
    ck_assert_msg(rc == RUN_EXIT_ERROR, "exit %d, want 1: %s", rc, err);
    snprintf(want, sizeof want, "in use by another run (pid %ld)", (long)getpid());
    ck_assert_msg(strstr(err, want) && strchr(err, '\n') == err + strlen(err) - 1, "%s", err);
    snprintf(path, sizeof path, "%s/" RUNDIR_STATUS, dir);
    ck_assert_msg(access(path, F_OK) != 0, "the second trainer wrote %s", path);
    snprintf(path, sizeof path, "%s/" RUNDIR_LOCK, scratch("full"));
    fd = open(path, O_RDWR);
    ck_assert_msg(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "a finished run still holds %s", path);
    close(fd);
}
END_TEST

// A --resume that cannot go on must not leave status.json saying "finished": it
// records the failure, its reason and the step the checkpoint holds.
START_TEST(test_failed_resume_is_recorded) {
    const char *err;
    const char *dir = scratch("failed-resume");
    char cmd[PATH_MAX * 2 + 256], status[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "cp -r %s %s", scratch("full"), dir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(status, sizeof status, "%s/" RUNDIR_STATUS, dir);
    ck_assert(file_contains(status, "\"status\": \"finished\""));
    snprintf(cmd, sizeof cmd, "train " TINY " --steps 20 --resume --train-data /nonexistent/shard.jsonl --out %s",
             dir);
    int rc = run_suite(cmd, &err);
    ck_assert_msg(rc == RUN_EXIT_ERROR, "exit %d, want 1: %s", rc, err);
    ck_assert_msg(file_contains(status, "\"status\": \"failed\""), "status.json does not say failed");
    ck_assert_msg(file_contains(status, "/nonexistent/shard.jsonl"), "status.json lacks the reason");
    ck_assert_msg(file_contains(status, "\"step\": 16"), "status.json lost the checkpoint's step");
}
END_TEST

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(SCRATCH, sizeof SCRATCH, "%s/mot-test-train-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(SCRATCH)) {
        perror(SCRATCH);
        return 1;
    }
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_eval_loss_falls_on_c4);
    tcase_add_test(tc, test_resume_gives_the_same_losses);
    tcase_add_test(tc, test_config_records_values_as_given);
    tcase_add_test(tc, test_bad_input_gives_one_clear_line);
    tcase_add_test(tc, test_eval_of_a_checkpoint_matches_training_eval_data);
    tcase_add_test(tc, test_divergence_is_recorded);
    tcase_add_test(tc, test_resume_repairs_lost_csv_headers);
    tcase_add_test(tc, test_second_trainer_on_a_directory_stops);
    tcase_add_test(tc, test_failed_resume_is_recorded);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);  // tests run in order: later ones use the first run
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", SCRATCH);
    if (system(cmd) != 0) fprintf(stderr, "test_train: could not remove %s\n", SCRATCH);
    return failed ? 1 : 0;
}
