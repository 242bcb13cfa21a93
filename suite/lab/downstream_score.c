// Log-likelihood scoring of multiple-choice examples, one query per batch row.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/common.h"
#include "suite/lab/downstream.h"

// One choice as a row: tokens/targets of context+choice, cut from the left to
// T+1 tokens; targets are -1 except where they predict a choice token.
typedef struct {
    int example;
    int *tokens, *targets;  // (T)
    double logprob;
} Query;

// ctx already begins with end-of-text; eot also fills the row after the choice
// (causal attention: what follows never changes the scored positions).
static void build_query(const TokenIds *ctx, const TokenIds *choice, int T, int eot, int *tokens,
                        int *targets) {
    size_t total = ctx->len + choice->len;
    size_t start = total > (size_t)T + 1 ? total - (T + 1) : 0;
    for (int t = 0; t < T; t++) {
        tokens[t] = eot;
        targets[t] = -1;
    }
    for (size_t i = start; i + 1 < total; i++) {
        size_t next = i + 1;
        int t = (int)(i - start);
        tokens[t] = i < ctx->len ? ctx->ids[i] : choice->ids[i - ctx->len];
        targets[t] = next >= ctx->len ? choice->ids[next - ctx->len] : -1;
    }
}

static double row_sum(const float *logp, const int *targets, int T) {
    double s = 0;
    for (int t = 0; t < T; t++)
        if (targets[t] >= 0) s += logp[t];
    return s;
}

static uint64_t next_rand(uint64_t *s) {  // xorshift64*
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

// Every query's log-probability: B per forward when rows are independent,
// otherwise all choices of one example, each alone among the same filler rows.
static void run_queries(const McScorer *s, Query *q, int n) {
    const int B = s->B, T = s->T;
    int *tokens = mallocCheck((size_t)B * T * sizeof(int));
    int *targets = mallocCheck((size_t)B * T * sizeof(int));
    float *logp = mallocCheck((size_t)B * T * sizeof(float));
    if (!s->filler) {
        for (int first = 0; first < n; first += B) {
            int rows = n - first < B ? n - first : B;
            for (int b = 0; b < B; b++) {
                for (int t = 0; t < T; t++) {
                    tokens[b * T + t] = b < rows ? q[first + b].tokens[t] : s->eot;
                    targets[b * T + t] = b < rows ? q[first + b].targets[t] : -1;
                }
            }
            s->logprobs(s->model, tokens, targets, logp);
            for (int b = 0; b < rows; b++)
                q[first + b].logprob = row_sum(logp + b * T, targets + b * T, T);
        }
    } else {
        uint64_t rng = s->seed * 0x9E3779B97F4A7C15ull + 1;
        for (int i = 0; i < n;) {
            int example = q[i].example;
            int row = (int)(next_rand(&rng) % (uint64_t)B);
            s->filler(s->filler_source, tokens);
            for (size_t k = 0; k < (size_t)B * T; k++) targets[k] = -1;
            for (; i < n && q[i].example == example; i++) {
                memcpy(tokens + (size_t)row * T, q[i].tokens, T * sizeof(int));
                memcpy(targets + (size_t)row * T, q[i].targets, T * sizeof(int));
                s->logprobs(s->model, tokens, targets, logp);
                q[i].logprob = row_sum(logp + (size_t)row * T, targets + (size_t)row * T, T);
            }
        }
    }
    free(tokens);
    free(targets);
    free(logp);
}

int mc_choice_chars(const char *choice) {
    int n = 0;
    for (const char *p = choice + (choice[0] == ' '); *p; p++)
        n += ((unsigned char)*p & 0xC0) != 0x80;  // UTF-8 continuation bytes are no character
    return n > 0 ? n : 1;
}

void mc_pick(const McExample *ex, const double *logprob, int *best, int *best_norm) {
    double top = -DBL_MAX, top_norm = -DBL_MAX;
    *best = *best_norm = 0;
    for (int c = 0; c < ex->n_choices; c++) {
        double norm = logprob[c] / mc_choice_chars(ex->choices[c]);
        if (logprob[c] > top) {
            top = logprob[c];
            *best = c;
        }
        if (norm > top_norm) {
            top_norm = norm;
            *best_norm = c;
        }
    }
}

double mc_binomial_se(int correct, int n) {
    if (n <= 0) return NAN;
    double p = (double)correct / n;
    return sqrt(p * (1 - p) / n);
}

// Every choice of every example as a query row, in example order.
static Query *build_queries(const McScorer *s, TokenizerSession *tok, const McTask *task,
                            int **rows_out, int *n_out) {
    int n = 0;
    for (int e = 0; e < task->count; e++) n += task->items[e].n_choices;
    Query *q = callocCheck(n, sizeof(Query));
    int *rows = mallocCheck((size_t)n * 2 * s->T * sizeof(int));
    n = 0;
    for (int e = 0; e < task->count; e++) {
        const McExample *ex = &task->items[e];
        TokenIds ctx = {0};
        token_ids_push(&ctx, s->eot);
        tokenizer_encode(tok, ex->context, strlen(ex->context), &ctx);
        for (int c = 0; c < ex->n_choices; c++, n++) {
            TokenIds choice = {0};
            tokenizer_encode(tok, ex->choices[c], strlen(ex->choices[c]), &choice);
            q[n].example = e;
            q[n].tokens = rows + (size_t)n * 2 * s->T;
            q[n].targets = q[n].tokens + s->T;
            build_query(&ctx, &choice, s->T, s->eot, q[n].tokens, q[n].targets);
            token_ids_free(&choice);
        }
        token_ids_free(&ctx);
    }
    *rows_out = rows;
    *n_out = n;
    return q;
}

void mc_score(const McScorer *s, TokenizerSession *tok, const McTask *task, McScore *out) {
    memset(out, 0, sizeof *out);
    int *rows, n;
    Query *q = build_queries(s, tok, task, &rows, &n);
    run_queries(s, q, n);
    double *logprob = mallocCheck((size_t)n * sizeof(double));  // (n) by query
    for (int i = 0; i < n; i++) {
        logprob[i] = q[i].logprob;
        out->sum_logprob += q[i].logprob;
    }
    for (int i = 0; i < n;) {  // an example's choices are consecutive queries
        const McExample *ex = &task->items[q[i].example];
        int best, best_norm;
        mc_pick(ex, logprob + i, &best, &best_norm);
        out->examples++;
        out->correct += best == ex->label;
        out->correct_norm += best_norm == ex->label;
        i += ex->n_choices;
    }
    free(logprob);
    free(rows);
    free(q);
}
