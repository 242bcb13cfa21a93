// The claims table and the markdown report of `suite diff`.
#include "suite/lab/results_report.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datasets/tokenizer.h"
#include "kernels/common.h"
#include "suite/paths.h"

void report_judge(ExperimentReport *r, const Claim *claims, int n_claims) {
    r->judged = callocCheck(n_claims ? n_claims : 1, sizeof(JudgedClaim));
    r->n_judged = 0;
    for (int i = 0; i < n_claims; i++) {
        if (strcmp(claims[i].experiment, r->exp.name)) continue;
        JudgedClaim *j = &r->judged[r->n_judged++];
        j->claim = &claims[i];
        j->result = claim_evaluate(&claims[i], &r->exp, &r->rs);
    }
}

void report_free(ExperimentReport *r) {
    experiment_free(&r->exp);
    results_free(&r->rs);
    free(r->judged);
    r->judged = NULL;
}

// ---- stdout -------------------------------------------------------------------------

void report_print(FILE *f, Scale scale, const ExperimentReport *reps, int n) {
    int count[N_VERDICTS] = {0};
    fprintf(f, "\nPublished vs measured at %s scale (experiments/published.csv)\n\n",
            scale_name(scale));
    fprintf(f, "%-16s %-60s %-19s %-12s %s\n", "experiment", "claim", "published", "verdict",
            "measured");
    for (int i = 0; i < n; i++)
        for (int j = 0; j < reps[i].n_judged; j++) {
            const JudgedClaim *c = &reps[i].judged[j];
            fprintf(f, "%-16s %-60.60s %-19.19s %-12s %s\n", reps[i].exp.name, c->claim->claim,
                    c->claim->published, verdict_name(c->result.verdict), c->result.measured);
            count[c->result.verdict]++;
        }
    fprintf(f,
            "\nclaims: %d hold, %d fail, %d inconclusive, %d smoke, %d not run, %d diverged, "
            "%d n/a at this scale\n",
            count[VERDICT_HOLDS], count[VERDICT_FAILS], count[VERDICT_INCONCLUSIVE],
            count[VERDICT_SMOKE], count[VERDICT_NOT_RUN], count[VERDICT_DIVERGED],
            count[VERDICT_NA]);
    if (scale_info(scale)->smoke)
        fprintf(f, "%s is the smoke scale: it shows the pipeline runs; no claim is judged.\n",
                scale_name(scale));
}

// ---- markdown -----------------------------------------------------------------------

// A table cell: '|' would end the cell.
static void md_cell(FILE *f, const char *s) {
    fputs("| ", f);
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
    fputc(' ', f);
}

// "mean ± std" over the finished seeds ("-" when none).
static void md_stats(FILE *f, SeedStats st) {
    char buf[64] = "-";
    if (st.n == 1) snprintf(buf, sizeof buf, "%.4f", st.mean);
    else if (st.n > 1) snprintf(buf, sizeof buf, "%.4f ± %.4f", st.mean, st.std);
    md_cell(f, buf);
}

// Whether a run of the experiment has a loss on the C4 validation sample (runs
// trained on other data): only then the table shows the column.
static int has_c4_sample_loss(const ExperimentReport *r) {
    for (int i = 0; i < r->exp.n_runs; i++)
        if (results_run_stats(&r->rs, r->exp.runs[i].name, "c4_sample_eval_loss").n) return 1;
    return 0;
}

// One row per run name: the seed-mean losses with their seed-to-seed std.
static void md_runs(FILE *f, const ExperimentReport *r) {
    int c4 = has_c4_sample_loss(r);
    if (c4)
        fprintf(f,
                "Claims are judged on the validation split of the training data (%s); the C4 "
                "validation sample is shown beside it (a different distribution).\n\n",
                r->exp.runs[0].data);
    fprintf(f, "| run | model | status | seeds | final eval loss | %sfinal train loss | steps | "
               "precision | device |\n",
            c4 ? "C4 sample eval loss | " : "");
    fprintf(f, "|---|---|---|---|---|%s---|---|---|---|\n", c4 ? "---|" : "");
    for (int i = 0; i < r->exp.n_runs; i++) {
        const RunSpec *spec = &r->exp.runs[i];
        if (spec->replicate) continue;
        const RunSummary *s;
        RunStatus status = results_run_status(&r->rs, spec->name, &s);
        SeedStats ev = results_run_stats(&r->rs, spec->name, "eval_loss");
        char seeds[24];
        snprintf(seeds, sizeof seeds, "%d / %d", ev.n, spec->n_seeds);
        md_cell(f, spec->name);
        md_cell(f, run_value(spec, "model"));
        md_cell(f, run_status_name(status));
        md_cell(f, seeds);
        md_stats(f, ev);
        if (c4) md_stats(f, results_run_stats(&r->rs, spec->name, "c4_sample_eval_loss"));
        md_stats(f, results_run_stats(&r->rs, spec->name, "train_loss"));
        char steps[32];
        snprintf(steps, sizeof steps, "%ld / %ld", s ? s->steps : 0L, run_number(spec, "steps"));
        md_cell(f, steps);
        md_cell(f, s ? s->precision : "");
        md_cell(f, s ? s->device : "");
        fputs("|\n", f);
    }
}

static void md_claims(FILE *f, const ExperimentReport *r) {
    fprintf(f, "\n| claim | published | measured | verdict |\n|---|---|---|---|\n");
    for (int j = 0; j < r->n_judged; j++) {
        const JudgedClaim *c = &r->judged[j];
        md_cell(f, c->claim->claim);
        md_cell(f, c->claim->published);
        md_cell(f, c->result.measured);
        char verdict[32];
        snprintf(verdict, sizeof verdict, "**%s**", verdict_name(c->result.verdict));
        md_cell(f, verdict);
        fputs("|\n", f);
    }
}

// "MoT-Medium/32E (bf16)" -> "MoT-Medium/32E" + "bf16".
static void split_precision(const char *run, char *base, size_t len, char *prec, size_t plen) {
    const char *open = strrchr(run, '(');
    size_t n = open && open > run ? (size_t)(open - run - 1) : strlen(run);
    snprintf(base, len, "%.*s", (int)n, run);
    if (open) snprintf(prec, plen, "%.*s", (int)strcspn(open + 1, ")"), open + 1);
    else prec[0] = '\0';
}

// The paper's precision table: one row per model, training loss per precision.
static void md_precision_table(FILE *f, const ExperimentReport *r) {
    static const char *const precs[] = {"mixed", "bf16"};
    char seen[8][RES_NAME_LEN];
    int n_seen = 0;
    fprintf(f,
            "\n**Final training loss** (mean of the last tenth of the logged steps)\n\n"
            "| model | mixed | bf16 |\n|---|---|---|\n");
    for (int i = 0; i < r->exp.n_runs && n_seen < 8; i++) {
        char base[RES_NAME_LEN], prec[16];
        if (r->exp.runs[i].replicate) continue;
        split_precision(r->exp.runs[i].name, base, sizeof base, prec, sizeof prec);
        int dup = 0;
        for (int k = 0; k < n_seen; k++) dup |= !strcmp(seen[k], base);
        if (dup) continue;
        snprintf(seen[n_seen++], RES_NAME_LEN, "%s", base);
        md_cell(f, base);
        for (int p = 0; p < 2; p++) {
            char name[RES_NAME_LEN + 16];
            snprintf(name, sizeof name, "%s (%s)", base, precs[p]);
            const RunSummary *s;
            if (results_run_status(&r->rs, name, &s) == RUN_STATUS_DIVERGED) {
                char cell[48];
                snprintf(cell, sizeof cell, "diverged at %ld", s->diverged_at);
                md_cell(f, cell);
            } else {
                md_stats(f, results_run_stats(&r->rs, name, "train_loss"));
            }
        }
        fputs("|\n", f);
    }
}

// The rebuttal's downstream table: tasks x runs, measured (published).
static void md_downstream_table(FILE *f, const ExperimentReport *r) {
    fprintf(f, "\n**Zero-shot accuracy, %%** measured (published)\n\n| task |");
    for (int i = 0; i < r->exp.n_runs; i++)
        if (!r->exp.runs[i].replicate) fprintf(f, " %s |", r->exp.runs[i].name);
    fprintf(f, "\n|---|");
    for (int i = 0; i < r->exp.n_runs; i++)
        if (!r->exp.runs[i].replicate) fprintf(f, "---|");
    fputc('\n', f);
    for (int t = 0; t < r->exp.n_tasks; t++) {
        const char *task = r->exp.tasks[t];
        md_cell(f, task);
        for (int i = 0; i < r->exp.n_runs; i++) {
            if (r->exp.runs[i].replicate) continue;
            const char *run = r->exp.runs[i].name;
            // The metric and published value of this run's accuracy claim, if any.
            const Claim *claim = NULL;
            for (int j = 0; j < r->n_judged; j++) {
                const Claim *c = r->judged[j].claim;
                const char *colon = strchr(c->metric, ':');
                if (c->rule == RULE_ACCURACY && !strcmp(c->runs[0], run) && colon &&
                    !strcmp(colon + 1, task))
                    claim = c;
            }
            const TaskScore *s = results_find_score(&r->rs, run, task);
            int norm = claim && !strncmp(claim->metric, "acc_norm:", 9);
            char cell[64] = "not run";
            if (s && !strcmp(s->status, "ok"))
                snprintf(cell, sizeof cell, "%.1f%s", norm ? s->acc_norm : s->acc,
                         norm ? " (norm)" : "");
            if (claim)
                snprintf(cell + strlen(cell), sizeof cell - strlen(cell), " (%s)",
                         claim->published);
            md_cell(f, cell);
        }
        fputs("|\n", f);
    }
    fprintf(f,
            "\nHellaSwag needs `hellaswag_val.jsonl` (see results/README.md); without it the "
            "column is \"not run\".\n");
}

int report_write_markdown(const char *path, Scale scale, const ExperimentReport *reps, int n,
                          char *err, size_t errlen) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f,
            "# mot-bench report: %s scale\n\nWritten by `suite diff --scale %s` on %s from "
            "commit %s. Published claims: `experiments/published.csv`; how each is measured: "
            "`experiments/README.md`.\n",
            scale_name(scale), scale_name(scale), date, suite_commit());
    if (scale_info(scale)->smoke)
        fprintf(f,
                "\n**%s is the smoke scale**: it shows that every step of the pipeline runs. "
                "Its runs are far too short to show any claim, so every verdict reads "
                "\"smoke\" (the measurement is still printed).\n",
                scale_name(scale));
    int vocab = n ? experiment_vocab_size(&reps[0].exp) : 0;
    if (vocab && vocab != GPT2_VOCAB_SIZE)
        fprintf(f,
                "\n**Reduced vocabulary:** the models at %s scale use GPT-2's first %d merges "
                "(V = %d, end-of-text = %d), not its 50257 tokens, so their losses are not "
                "comparable with GPT-2-vocabulary losses.\n",
                scale_name(scale), vocab - GPT2_MIN_VOCAB_SIZE, vocab, vocab - 1);
    if (scale != SCALE_PAPER)
        fprintf(f,
                "\nAt %s scale the models are smaller and trained far shorter than in the "
                "paper (scaling rules: `experiments/README.md`): orderings may be noise, and "
                "absolute numbers are only compared at paper scale.\n",
                scale_name(scale));
    for (int i = 0; i < n; i++) {
        const ExperimentReport *r = &reps[i];
        fprintf(f, "\n## %s: %s\n\n", r->exp.name, r->exp.title);
        char png[PATH_MAX + 64];
        snprintf(png, sizeof png, "%s/%s.png", r->results_dir, r->exp.name);
        if (access(png, R_OK) == 0)
            fprintf(f, "![%s](%s-%s/%s.png) ([svg](%s-%s/%s.svg))\n\n", r->exp.name, r->exp.name,
                    scale_name(scale), r->exp.name, r->exp.name, scale_name(scale), r->exp.name);
        snprintf(png, sizeof png, "%s/%s-train.png", r->results_dir, r->exp.name);
        if (access(png, R_OK) == 0)
            fprintf(f, "Training loss: ![%s-train](%s-%s/%s-train.png)\n\n", r->exp.name,
                    r->exp.name, scale_name(scale), r->exp.name);
        md_runs(f, r);
        if (!strcmp(r->exp.table, "precision")) md_precision_table(f, r);
        if (r->exp.n_tasks) md_downstream_table(f, r);
        if (r->n_judged) md_claims(f, r);
    }
    if (fclose(f)) {
        snprintf(err, errlen, "%s: write failed", path);
        return -1;
    }
    return 0;
}
