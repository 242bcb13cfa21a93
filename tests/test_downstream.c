// Downstream scoring: the three public task formats parse to the right
// examples, and a tiny model overfitted on the right answers scores 100% with
// both batching rules, which agree exactly for a dense model.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/tokenizer.h"
#include "impls/model.h"
#include "kernels/ops.h"
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

    // Rows: context + right answer, padded with end-of-text (targets -1).
    int tokens[B * T], targets[B * T];
    for (int b = 0; b < B; b++) {
        const Fact *f = &FACTS[b % N_FACTS];
        TokenIds ids = {0};
        tokenizer_encode(session, f->context, strlen(f->context), &ids);
        tokenizer_encode(session, f->right, strlen(f->right), &ids);
        ck_assert_int_le((int)ids.len, T + 1);
        for (int t = 0; t < T; t++) {
            tokens[b * T + t] = t < (int)ids.len ? ids.ids[t] : GPT2_EOT;
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
    McScorer packed = {.B = B, .T = T, .logprobs = model_logprobs, .model = &m};
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
    suite_add_tcase(s, tc);
    TCase *score = tcase_create("scoring");
    tcase_set_timeout(score, 120);
    tcase_add_test(score, test_overfit_model_scores_every_right_answer);
    suite_add_tcase(s, score);
    return s;
}

int main(void) { return test_run_suite(downstream_suite()); }
