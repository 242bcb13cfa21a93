// Downstream scoring: the three public task formats parse to the right
// examples; the authors' evaluation rules (end-of-text before the context,
// acc_norm per character without the leading space, HellaSwag's capitalised
// ctx_b, binomial standard errors, which metric each published number is); and
// a tiny model overfitted on the right answers scores 100% with both batching
// rules, which agree exactly for a dense model.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/tokenizer.h"
#include "impls/model.h"
#include "kernels/ops.h"
#include "suite/csvio.h"
#include "suite/lab/downstream.h"
#include "tests/testutil.h"

static const char *DATA = "tests/data/downstream";

static McTask load(const char *task) {
    char path[512], err[1024];
    McTask t;
    ck_assert_msg(!mc_task_path(task, DATA, path, sizeof path, err, sizeof err), "%s", err);
    ck_assert_msg(!mc_task_load(task, path, 0, &t, err, sizeof err), "%s", err);
    return t;
}

START_TEST(test_piqa_format) {
    McTask t = load("piqa");
    ck_assert_int_eq(t.count, 20);
    ck_assert_str_eq(t.items[0].context,
                     "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:");
    ck_assert_int_eq(t.items[0].n_choices, 2);
    ck_assert_int_eq(t.items[0].label, 0);  // the ripped paper strips
    ck_assert(!strncmp(t.items[0].choices[0], " Provide the guinea pig", 23));
    ck_assert(strstr(t.items[0].choices[0], "ripped paper strips"));
    mc_task_free(&t);
}
END_TEST

START_TEST(test_arc_format) {
    McTask t = load("arc-easy");
    ck_assert_int_eq(t.count, 20);
    // Mercury_417466: photosynthesis / food webs, answer A
    ck_assert(strstr(t.items[0].context, "Question: Which statement best explains"));
    ck_assert_int_eq(t.items[0].label, 0);
    ck_assert_int_eq(t.items[0].n_choices, 4);
    ck_assert_int_eq(t.items[0].choices[0][0], ' ');
    mc_task_free(&t);
    char err[1024];
    ck_assert_int_eq(mc_task_load("arc-easy", "tests/data/downstream/arc_easy/ARC-Easy-Test.jsonl",
                                  5, &t, err, sizeof err),
                     0);
    ck_assert_int_eq(t.count, 5);  // --limit
    mc_task_free(&t);
}
END_TEST

START_TEST(test_hellaswag_format) {
    McTask t = load("hellaswag");
    ck_assert_int_eq(t.count, 2);
    ck_assert_str_eq(t.items[0].context, "Making tea: A person fills a kettle with water. They");
    ck_assert_str_eq(t.items[0].choices[2], " put the kettle on the stove to boil.");
    ck_assert_int_eq(t.items[0].label, 2);
    // WikiHow markup: [header] dropped, " [title]" ends a sentence, label as a string.
    ck_assert_str_eq(t.items[1].context, "Home and Garden: How to water a plant. Check the soil.");
    ck_assert_str_eq(t.items[1].choices[0],
                     " If the soil is dry, pour water slowly around the base.");
    ck_assert_int_eq(t.items[1].label, 0);
    mc_task_free(&t);
}
END_TEST

START_TEST(test_missing_hellaswag_says_where_to_put_it) {
    char path[512], err[1024];
    unsetenv("MOT_HELLASWAG");
    ck_assert_int_eq(mc_task_path("hellaswag", "/nonexistent", path, sizeof path, err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "hellaswag_val.jsonl") && strstr(err, "MOT_HELLASWAG"), "%s", err);
    ck_assert_int_eq(mc_task_load("piqa", "tests/data/downstream/arc_easy/ARC-Easy-Test.jsonl", 0,
                                  &(McTask){0}, err, sizeof err),
                     -1);
}
END_TEST

// ---- the authors' rules, with hand-computed expectations --------------------------

START_TEST(test_capitalize_like_python) {
    const char *cases[][2] = {{"hELLO wORLD", "Hello world"}, {"they", "They"}, {"", ""},
                              {"1ST PLACE", "1st place"}};
    for (int i = 0; i < 4; i++) {
        char *c = mc_capitalize(cases[i][0]);
        ck_assert_str_eq(c, cases[i][1]);
        free(c);
    }
}
END_TEST

// ctx = ctx_a + " " + ctx_b.capitalize(): the rest of ctx_b is lowered too.
START_TEST(test_hellaswag_ctx_b_capitalised) {
    char dir[] = "/tmp/mot_h7_hellaswagXXXXXX", path[256], err[1024];
    ck_assert(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/hellaswag_val.jsonl", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"activity_label\": \"Rowing\", \"ctx_a\": \"A man sits in a boat.\", "
          "\"ctx_b\": \"tHE MAN\", \"label\": 1, \"endings\": [\"sinks.\", \"rows away.\"]}\n",
          f);
    fclose(f);
    McTask t;
    ck_assert_msg(!mc_task_load("hellaswag", path, 0, &t, err, sizeof err), "%s", err);
    ck_assert_str_eq(t.items[0].context, "Rowing: A man sits in a boat. The man");
    ck_assert_str_eq(t.items[0].choices[1], " rows away.");
    mc_task_free(&t);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_acc_norm_counts_characters_without_the_space) {
    ck_assert_int_eq(mc_choice_chars(" abc"), 3);
    ck_assert_int_eq(mc_choice_chars("abc"), 3);
    ck_assert_int_eq(mc_choice_chars(" caf\xc3\xa9"), 4);  // "café": é is one character, two bytes
    ck_assert_int_eq(mc_choice_chars(" "), 1);             // never a division by zero
}
END_TEST

// Two choices with known log-likelihoods. acc: -1.0 > -2.5, the first. acc_norm:
// -1.0/1 = -1.0 < -2.5/3 = -0.833, the second (dividing by bytes with the space
// would give -0.5 > -0.625, the first).
START_TEST(test_pick_acc_and_acc_norm) {
    char a[] = " a", b[] = " abc";
    char *choices[] = {a, b};
    McExample ex = {.context = NULL, .choices = choices, .n_choices = 2, .label = 1};
    double logprob[] = {-1.0, -2.5};
    int best, best_norm;
    mc_pick(&ex, logprob, &best, &best_norm);
    ck_assert_int_eq(best, 0);
    ck_assert_int_eq(best_norm, 1);
}
END_TEST

START_TEST(test_binomial_standard_error) {
    ck_assert_double_eq_tol(mc_binomial_se(30, 100), sqrt(0.3 * 0.7 / 100), 1e-15);
    ck_assert_double_eq_tol(mc_binomial_se(30, 100), 0.045825756949558, 1e-12);
    ck_assert_double_eq(mc_binomial_se(10, 10), 0.0);
    ck_assert(isnan(mc_binomial_se(0, 0)));
}
END_TEST

// experiments/published.csv names each downstream claim's metric (acc:piqa,
// acc_norm:hellaswag, ...); the scorer's "published" column must agree with it.
static int check_metric_row(char **fields, int n, long line, void *user) {
    int *checked = user;
    if (line == 1 || n < 6) return 0;
    const char *metric = fields[5], *colon = strchr(metric, ':');
    if (!colon || strncmp(metric, "acc", 3)) return 0;
    const char *published = mc_published_metric(colon + 1);
    ck_assert_msg(published && strlen(published) == (size_t)(colon - metric) &&
                      !strncmp(published, metric, colon - metric),
                  "published.csv line %ld: %s, but the scorer reports %s as published", line,
                  metric, published ? published : "nothing");
    (*checked)++;
    return 0;
}

START_TEST(test_published_metric_matches_published_csv) {
    ck_assert_str_eq(mc_published_metric("piqa"), "acc");
    ck_assert_str_eq(mc_published_metric("arc-easy"), "acc");
    ck_assert_str_eq(mc_published_metric("hellaswag"), "acc_norm");
    ck_assert_ptr_null(mc_published_metric("mmlu"));
    char err[512];
    int checked = 0;
    ck_assert_msg(!csv_read("experiments/published.csv", check_metric_row, &checked, err,
                            sizeof err),
                  "%s", err);
    ck_assert_int_ge(checked, 3);
}
END_TEST

// Without MOT_DOWNSTREAM_DIR the shipped datasets/downstream is the default.
START_TEST(test_default_data_dir_is_the_shipped_copy) {
    char dir[4096], path[4096], err[1024];
    unsetenv("MOT_DOWNSTREAM_DIR");
    mc_default_data_dir(dir, sizeof dir);
    size_t n = strlen(dir), tail = strlen("/datasets/downstream");
    ck_assert_msg(n > tail && !strcmp(dir + n - tail, "/datasets/downstream"), "%s", dir);
    ck_assert_msg(!mc_task_path("piqa", dir, path, sizeof path, err, sizeof err), "%s", err);
    ck_assert_msg(!mc_task_path("arc-easy", dir, path, sizeof path, err, sizeof err), "%s", err);
    setenv("MOT_DOWNSTREAM_DIR", "/elsewhere", 1);
    mc_default_data_dir(dir, sizeof dir);
    ck_assert_str_eq(dir, "/elsewhere");
    unsetenv("MOT_DOWNSTREAM_DIR");
}
END_TEST

// A stand-in model: every target gets log-probability -1, and every query row
// must begin with the model's end-of-text (a reduced vocabulary's, 999) and hold
// no id outside the vocabulary.
enum { FAKE_B = 2, FAKE_T = 32, FAKE_V = 1000 };
static int fake_rows_seen;

static void fake_logprobs(void *model, const int *tokens, const int *targets, float *logp) {
    (void)model;
    for (int b = 0; b < FAKE_B; b++) {
        int scored = 0;
        for (int t = 0; t < FAKE_T; t++) {
            int k = b * FAKE_T + t;
            ck_assert_int_lt(tokens[k], FAKE_V);
            ck_assert_int_ge(tokens[k], 0);
            logp[k] = targets[k] >= 0 ? -1.0f : 0.0f;
            scored |= targets[k] >= 0;
        }
        if (scored) {
            ck_assert_int_eq(tokens[b * FAKE_T], FAKE_V - 1);
            fake_rows_seen++;
        }
    }
}

START_TEST(test_context_starts_with_end_of_text) {
    char err[1024];
    Tokenizer *tok = tokenizer_open(NULL, FAKE_V, err, sizeof err);
    ck_assert_msg(tok, "%s", err);
    ck_assert_int_eq(tokenizer_eot(tok), FAKE_V - 1);
    TokenizerSession *session = tokenizer_session_new(tok);
    char ctx[] = "Question: Is water wet?\nAnswer:", yes[] = " yes", no[] = " no";
    char *choices[] = {yes, no};
    McExample ex = {.context = ctx, .choices = choices, .n_choices = 2, .label = 0};
    McTask task = {.name = "fake", .items = &ex, .count = 1};
    McScorer s = {.B = FAKE_B, .T = FAKE_T, .logprobs = fake_logprobs, .eot = tokenizer_eot(tok)};
    McScore score;
    fake_rows_seen = 0;
    mc_score(&s, session, &task, &score);
    ck_assert_int_eq(fake_rows_seen, 2);
    // Each choice token is scored once at -1: the sum is minus their count.
    TokenIds a = {0}, b = {0};
    tokenizer_encode(session, yes, strlen(yes), &a);
    tokenizer_encode(session, no, strlen(no), &b);
    ck_assert_double_eq_tol(score.sum_logprob, -(double)(a.len + b.len), 1e-9);
    token_ids_free(&a);
    token_ids_free(&b);
    tokenizer_session_free(session);
    tokenizer_free(tok);
}
END_TEST

// ---- the scorer on a model that memorised the right answers -----------------------

typedef struct {
    const char *context, *right, *wrong;
} Fact;

static const Fact FACTS[] = {
    {"The capital of France is", " Paris, a city of light.", " a small green frog."},
    {"My favourite colour is", " blue like the summer sky.", " seven hundred and twelve."},
    {"Every morning the baker", " bakes fresh bread and rolls.", " flies to the moon alone."},
};
enum { N_FACTS = 3, B = 4, T = 16, STEPS = 30 };

static void model_logprobs(void *model, const int *tokens, const int *targets, float *logp) {
    model_token_logprobs(model, tokens, targets, logp);
}

// Random token ids in every row: text the query never saw.
static void random_filler(void *source, int *tokens) {
    uint64_t *state = source;
    for (int i = 0; i < B * T; i++) tokens[i] = (int)(test_rng_next(state) % 50000);
}

START_TEST(test_overfit_model_scores_every_right_answer) {
    char err[1024];
    Tokenizer *tok = tokenizer_load(NULL, err, sizeof err);
    ck_assert_msg(tok, "%s", err);
    TokenizerSession *session = tokenizer_session_new(tok);

    // Rows: end-of-text + context + right answer, as the scorer builds them,
    // padded with end-of-text (targets -1).
    int tokens[B * T], targets[B * T];
    for (int b = 0; b < B; b++) {
        const Fact *f = &FACTS[b % N_FACTS];
        TokenIds ids = {0};
        token_ids_push(&ids, tokenizer_eot(tok));
        tokenizer_encode(session, f->context, strlen(f->context), &ids);
        tokenizer_encode(session, f->right, strlen(f->right), &ids);
        ck_assert_int_le((int)ids.len, T + 1);
        for (int t = 0; t < T; t++) {
            tokens[b * T + t] = t < (int)ids.len ? ids.ids[t] : tokenizer_eot(tok);
            targets[b * T + t] = t + 1 < (int)ids.len ? ids.ids[t + 1] : -1;
        }
        token_ids_free(&ids);
    }

    ModelConfig cfg;
    Model m = {0};
    ck_assert_msg(!model_config_by_name("transformer-tiny", &cfg, err, sizeof err), "%s", err);
    ck_assert_msg(!model_create(&m, &cfg, &ops_cpu, PREC_FP32, 7, err, sizeof err), "%s", err);
    ck_assert_msg(!model_reserve(&m, B, T, err, sizeof err), "%s", err);
    size_t n = m.table.total;
    float *adam_m = ops_cpu.alloc(n * sizeof(float)), *adam_v = ops_cpu.alloc(n * sizeof(float));
    double first = 0, last = 0;
    for (int step = 1; step <= STEPS; step++) {
        model_zero_grad(&m);
        last = model_forward_backward(&m, tokens, targets, 1.0f, NULL);
        if (step == 1) first = last;
        ops_cpu.adamw(m.params, m.grads, adam_m, adam_v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, step,
                      1.0f, 0);
    }
    ck_assert_msg(last < 0.1 * first, "memorising failed: loss %.3f -> %.3f", first, last);

    McTask task = {.name = "facts"};
    task.items = calloc(N_FACTS, sizeof(McExample));
    for (int i = 0; i < N_FACTS; i++) {
        McExample *ex = &task.items[task.count++];
        ex->context = strdup(FACTS[i].context);
        ex->n_choices = 2;
        ex->choices = malloc(2 * sizeof(char *));
        ex->label = i % 2;  // the right answer is first or second
        ex->choices[ex->label] = strdup(FACTS[i].right);
        ex->choices[1 - ex->label] = strdup(FACTS[i].wrong);
    }
    // Dense rows are independent: B queries per forward, or one query per batch
    // among random filler rows; both must give the same log-probabilities.
    uint64_t filler_state = 99;
    McScorer packed = {
        .B = B, .T = T, .logprobs = model_logprobs, .model = &m, .eot = tokenizer_eot(tok)};
    McScorer alone = packed;
    alone.filler = random_filler;
    alone.filler_source = &filler_state;
    alone.seed = 3;
    McScore a, b;
    mc_score(&packed, session, &task, &a);
    mc_score(&alone, session, &task, &b);
    ck_assert_int_eq(a.examples, N_FACTS);
    ck_assert_int_eq(a.correct, N_FACTS);
    ck_assert_int_eq(a.correct_norm, N_FACTS);
    ck_assert_int_eq(b.correct, N_FACTS);
    ck_assert_double_eq_tol(a.sum_logprob, b.sum_logprob, 1e-3 * fabs(a.sum_logprob));

    mc_task_free(&task);
    ops_cpu.free(adam_m);
    ops_cpu.free(adam_v);
    model_free(&m);
    tokenizer_session_free(session);
    tokenizer_free(tok);
}
END_TEST

static Suite *downstream_suite(void) {
    Suite *s = suite_create("downstream");
    TCase *tc = tcase_create("tasks");
    tcase_add_test(tc, test_piqa_format);
    tcase_add_test(tc, test_arc_format);
    tcase_add_test(tc, test_hellaswag_format);
    tcase_add_test(tc, test_missing_hellaswag_says_where_to_put_it);
    tcase_add_test(tc, test_default_data_dir_is_the_shipped_copy);
    suite_add_tcase(s, tc);
    TCase *rules = tcase_create("rules");
    tcase_add_test(rules, test_capitalize_like_python);
    tcase_add_test(rules, test_hellaswag_ctx_b_capitalised);
    tcase_add_test(rules, test_acc_norm_counts_characters_without_the_space);
    tcase_add_test(rules, test_pick_acc_and_acc_norm);
    tcase_add_test(rules, test_binomial_standard_error);
    tcase_add_test(rules, test_published_metric_matches_published_csv);
    tcase_add_test(rules, test_context_starts_with_end_of_text);
    suite_add_tcase(s, rules);
    TCase *score = tcase_create("scoring");
    tcase_set_timeout(score, 120);
    tcase_add_test(score, test_overfit_model_scores_every_right_answer);
    suite_add_tcase(s, score);
    return s;
}

int main(void) { return test_run_suite(downstream_suite()); }
