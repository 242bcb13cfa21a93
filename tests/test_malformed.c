// Malformed input never crashes: the suite binary ($MOT_SUITE, default build/suite)
// is run on every case of the corpus in tests/data/malformed and must exit with a
// non-zero status (not a signal, not a sanitizer report) and exactly one line on
// stderr. The corpus:
//   checkpoints/cases  one damaged checkpoint per line, made here from a valid tiny
//                      one (ckpt_patch.h) rather than committed as binaries;
//   shards/            C4-style shards `suite eval --data` must refuse;
//   cli/cases          one command line per line ({CKPT}, {NANCKPT}, {DENSECKPT},
//                      {WORDS}, {TMP}: files made here);
//   yaml/              experiment definitions experiment_load must refuse.
// Run from the repository root (make run-tests does).
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "impls/model_config.h"
#include "suite/lab/experiment.h"
#include "tests/ckpt_patch.h"
#include "tests/testutil.h"

#define CORPUS "tests/data/malformed"

static char tmp[64];          // per-test scratch folder
static char valid_ckpt[128];  // tmp/valid.safetensors
static char nan_ckpt[128];    // tmp/nan.safetensors: the valid model, every weight NaN
static char dense_ckpt[128];  // tmp/dense.safetensors: a valid dense model
static char words[128];       // tmp/words.jsonl: a shard of plain English text

// A variant of the valid checkpoint's model at path; nan_weights: every weight NaN.
static void write_variant(const char *path, FFKind kind, int nan_weights) {
    ModelConfig cfg = ckpt_patch_config();
    if (kind == FF_DENSE) {
        snprintf(cfg.name, sizeof cfg.name, "test-transformer-tiny");
        cfg.moe_kind = FF_DENSE;
        cfg.moe_first_layer = cfg.n_layers;
        cfg.n_experts = cfg.expert_size = cfg.group_size = 0;
    }
    Model m;
    char err[512];
    ck_assert_msg(!model_create(&m, &cfg, &ops_cpu, PREC_FP32, 1, err, sizeof err), "%s", err);
    for (size_t i = 0; nan_weights && i < m.table.total; i++) m.params[i] = NAN;
    ck_assert_msg(!checkpoint_save(path, &m, NULL, err, sizeof err), "%s", err);
    model_free(&m);
}

static void setup(void) {
    strcpy(tmp, "/tmp/mot-test-malformed-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(valid_ckpt, sizeof valid_ckpt, "%s/valid.safetensors", tmp);
    ckpt_patch_write_valid(valid_ckpt);
    snprintf(nan_ckpt, sizeof nan_ckpt, "%s/nan.safetensors", tmp);
    write_variant(nan_ckpt, FF_MOT, 1);
    snprintf(dense_ckpt, sizeof dense_ckpt, "%s/dense.safetensors", tmp);
    write_variant(dense_ckpt, FF_DENSE, 0);
    snprintf(words, sizeof words, "%s/words.jsonl", tmp);
    FILE *f = fopen(words, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 20; i++)
        fprintf(f, "{\"text\": \"Document %d is about the weather in the mountains.\"}\n", i);
    fclose(f);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *suite_bin(void) {
    const char *s = getenv("MOT_SUITE");
    return s ? s : "build/suite";
}

// Runs `suite ARGS` (exec'd, so a signal reaches the wait status) with the token
// cache in tmp; requires a clean failure and returns its stderr (static).
static const char *expect_clean_failure(const char *args) {
    static char err[4096];
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "MOT_CACHE_DIR='%s/cache' exec %s %s </dev/null >/dev/null 2>'%s/stderr'",
             tmp, suite_bin(), args, tmp);
    int status = system(cmd);
    snprintf(cmd, sizeof cmd, "%s/stderr", tmp);
    FILE *f = fopen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(err, 1, sizeof err - 1, f);
    err[n] = '\0';
    fclose(f);
    ck_assert_msg(WIFEXITED(status), "suite %s: killed by signal %d; stderr: %s", args,
                  WIFSIGNALED(status) ? WTERMSIG(status) : -1, err);
    ck_assert_msg(WEXITSTATUS(status) != 0, "suite %s: exit 0 on malformed input", args);
    ck_assert_msg(!strstr(err, "Sanitizer") && !strstr(err, "runtime error"),
                  "suite %s: sanitizer report: %s", args, err);
    char *newline = strchr(err, '\n');
    ck_assert_msg(n > 1 && newline == err + n - 1, "suite %s: stderr is not one line: '%s'", args,
                  err);
    return err;
}

static void expect_phrase(const char *args, const char *err, const char *phrase) {
    ck_assert_msg(strstr(err, phrase), "suite %s: error lacks \"%s\": %s", args, phrase, err);
}

// Next "LEFT => RIGHT" case line of f (comments and blank lines skipped); 0 at the end.
static int next_case(FILE *f, char *left, char *right, size_t len) {
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *arrow = strstr(line, " => ");
        ck_assert_msg(arrow != NULL, "corpus line without ' => ': %s", line);
        *arrow = '\0';
        snprintf(left, len, "%s", line);
        snprintf(right, len, "%s", arrow + 4);
        return 1;
    }
    return 0;
}

// The damaged file a checkpoints/cases edit describes, written to dst.
static void make_damaged(const char *edit, const char *dst) {
    char what[64], a[64], b[64];
    int n = sscanf(edit, "%63s %63s %63s", what, a, b);
    if (!strcmp(what, "config") && n == 3) ckpt_patch_config_field(valid_ckpt, dst, a, b);
    else if (!strcmp(what, "shift") && n == 2) ckpt_patch_shift_offsets(valid_ckpt, dst, atoll(a));
    else if (!strcmp(what, "truncate") && n == 2) ckpt_patch_truncate(valid_ckpt, dst, (size_t)atol(a));
    else ck_abort_msg("checkpoints/cases: unknown edit '%s'", edit);
}

// The valid file loads, so each failure below is the damage's doing.
START_TEST(valid_checkpoint_loads) {
    ModelConfig cfg, want = ckpt_patch_config();
    Model m;
    char err[512];
    ck_assert_msg(!checkpoint_read_config(valid_ckpt, &cfg, err, sizeof err), "%s", err);
    ck_assert_int_eq(cfg.vocab_size, want.vocab_size);
    ck_assert_msg(!model_create(&m, &cfg, &ops_cpu, PREC_FP32, 0, err, sizeof err), "%s", err);
    ck_assert_msg(!checkpoint_load(valid_ckpt, &m, NULL, err, sizeof err), "%s", err);
    model_free(&m);
}
END_TEST

// Each case through the library's read path and through `suite eval --ckpt`.
START_TEST(damaged_checkpoints) {
    FILE *f = fopen(CORPUS "/checkpoints/cases", "r");
    ck_assert_ptr_nonnull(f);
    char edit[256], phrase[256], path[192], args[512], err[1024];
    int cases = 0;
    for (; next_case(f, edit, phrase, sizeof edit); cases++) {
        snprintf(path, sizeof path, "%s/damaged%d.safetensors", tmp, cases);
        make_damaged(edit, path);
        ModelConfig cfg;
        err[0] = '\0';
        ck_assert_msg(checkpoint_read_config(path, &cfg, err, sizeof err) == -1, "%s: accepted",
                      edit);
        ck_assert_msg(strstr(err, path) && strstr(err, phrase), "%s: error lacks the path or "
                      "\"%s\": %s", edit, phrase, err);
        snprintf(args, sizeof args, "eval --device cpu --ckpt '%s' --data '%s' --batch 2 --seq-len 4",
                 path, words);
        expect_phrase(args, expect_clean_failure(args), phrase);
    }
    fclose(f);
    ck_assert_int_ge(cases, 10);
}
END_TEST

// Ids past the checkpoint's vocabulary (300): the model must refuse the batch
// before the embedding lookup reads outside its table. (suite eval tokenizes its
// data at the checkpoint's vocabulary, so only a batch made elsewhere holds them.)
START_TEST(vocab_below_data_ids) {
    // One bad id among good ones.
    ModelConfig cfg = ckpt_patch_config();
    int tokens[4] = {0, 299, 300, 5}, targets[4] = {1, -1, 2, 3};
    char why[256];
    ck_assert_int_eq(model_check_tokens(&cfg, tokens, targets, 2, why, sizeof why), 0);
    ck_assert_int_eq(model_check_tokens(&cfg, tokens, targets, 4, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "token id 300 at batch position 2"), "%s", why);
    tokens[2] = 7;
    targets[3] = 300;
    ck_assert_int_eq(model_check_tokens(&cfg, tokens, targets, 4, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "target id 300 at batch position 3"), "%s", why);
}
END_TEST

// Every file of a corpus folder, sorted, as "DIR/NAME" into paths; returns the count.
static int corpus_files(const char *dir, char paths[][256], int max) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort), count = 0;
    ck_assert_msg(n >= 0, "cannot list %s", dir);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && count < max)
            snprintf(paths[count++], 256, "%s/%s", dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return count;
}

START_TEST(malformed_shards) {
    char paths[64][256], args[1024];
    int n = corpus_files(CORPUS "/shards", paths, 64);
    ck_assert_int_ge(n, 6);
    for (int i = 0; i < n; i++) {
        snprintf(args, sizeof args, "eval --device cpu --ckpt '%s' --data '%s' --batch 2 --seq-len 4",
                 valid_ckpt, paths[i]);
        expect_phrase(args, expect_clean_failure(args), paths[i]);  // the error names the shard
    }
}
END_TEST

// line with each {NAME} placeholder of cli/cases replaced, into out.
static void expand_placeholders(const char *line, char *out, size_t len) {
    const struct {
        const char *name, *value;
    } subst[] = {{"{CKPT}", valid_ckpt}, {"{NANCKPT}", nan_ckpt}, {"{DENSECKPT}", dense_ckpt},
                 {"{WORDS}", words}, {"{TMP}", tmp}};
    size_t k = 0;
    for (const char *c = line; *c && k + 1 < len;) {
        size_t i = 0, n = sizeof subst / sizeof subst[0];
        while (i < n && strncmp(c, subst[i].name, strlen(subst[i].name))) i++;
        if (i == n) {
            out[k++] = *c++;
            continue;
        }
        k += snprintf(out + k, len - k, "'%s'", subst[i].value);
        if (k >= len) k = len - 1;
        c += strlen(subst[i].name);
    }
    out[k] = '\0';
}

// cli/cases: "ARGS => PHRASE" (placeholders: expand_placeholders).
START_TEST(malformed_command_lines) {
    FILE *f = fopen(CORPUS "/cli/cases", "r");
    ck_assert_ptr_nonnull(f);
    char line[1024], phrase[1024], args[2048];
    int cases = 0;
    for (; next_case(f, line, phrase, sizeof line); cases++) {
        expand_placeholders(line, args, sizeof args);
        expect_phrase(args, expect_clean_failure(args), phrase);
    }
    fclose(f);
    ck_assert_int_ge(cases, 8);
    // `diff --results {TMP}/no-such-results` refused the folder without creating it.
    snprintf(args, sizeof args, "%s/no-such-results", tmp);
    ck_assert_msg(access(args, F_OK) != 0, "suite diff created %s", args);
}
END_TEST

// In process: experiment definitions reach the suite only through experiment_load.
START_TEST(malformed_yaml) {
    char paths[64][256];
    int n = corpus_files(CORPUS "/yaml", paths, 64);
    ck_assert_int_ge(n, 6);
    for (int i = 0; i < n; i++) {
        Experiment e;
        char err[1024] = "";
        ck_assert_msg(experiment_load(paths[i], SCALE_TINY, &e, err, sizeof err) == -1,
                      "%s: accepted", paths[i]);
        ck_assert_msg(strstr(err, paths[i]) && !strchr(err, '\n'),
                      "%s: error is not one line naming the file: '%s'", paths[i], err);
    }
}
END_TEST

static Suite *malformed_suite(void) {
    Suite *s = suite_create("malformed");
    TCase *tc = tcase_create("malformed");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, valid_checkpoint_loads);
    tcase_add_test(tc, damaged_checkpoints);
    tcase_add_test(tc, vocab_below_data_ids);
    tcase_add_test(tc, malformed_shards);
    tcase_add_test(tc, malformed_command_lines);
    tcase_add_test(tc, malformed_yaml);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return test_run_suite(malformed_suite()); }
