// PIQA, ARC-Easy and HellaSwag in their public JSON-lines formats -> McTask.
#include <ctype.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernels/common.h"
#include "suite/lab/downstream.h"
#include "suite/lab/experiment.h"

static char *join(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = mallocCheck(n);
    snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

char *mc_capitalize(const char *s) {
    char *out = join(s, "", "");
    for (char *p = out; *p; p++)
        *p = (char)(p == out ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
    return out;
}

static void add_example(McTask *t, char *context, char **choices, int n, int label) {
    t->items = realloc(t->items, (t->count + 1) * sizeof(McExample));
    if (!t->items) die("out of memory");
    t->items[t->count++] = (McExample){context, choices, n, label};
}

// "Question: {q}\nAnswer:" with " {choice}" continuations (PIQA, ARC).
static void add_question(McTask *t, const char *question, const char *const *choices, int n,
                         int label) {
    char **cs = mallocCheck(n * sizeof(char *));
    for (int i = 0; i < n; i++) cs[i] = join(" ", choices[i], "");
    add_example(t, join("Question: ", question, "\nAnswer:"), cs, n, label);
}

// HellaSwag's WikiHow text carries markup: " [title]" ends a sentence, other
// [tags] are dropped, and spaces collapse (leading and trailing ones go).
// Returns malloc'd text.
static char *hellaswag_clean(const char *in) {
    char *out = mallocCheck(strlen(in) * 2 + 1), *o = out;
    for (const char *p = in; *p;) {
        if (!strncmp(p, " [title]", 8)) {
            o += sprintf(o, ". ");
            p += 8;
        } else if (*p == '[' && strchr(p, ']')) {
            p = strchr(p, ']') + 1;
        } else if (*p == ' ' && (o == out || o[-1] == ' ')) {
            p++;
        } else {
            *o++ = *p++;
        }
    }
    while (o > out && o[-1] == ' ') o--;
    *o = '\0';
    return out;
}

typedef struct {
    const char *path;
    long line;
    char *err;
    size_t errlen;
} LineCtx;

static int bad(LineCtx *c, const char *what) {
    snprintf(c->err, c->errlen, "%s:%ld: %s", c->path, c->line, what);
    return -1;
}

static const char *str_field(json_t *obj, const char *key) {
    return json_string_value(json_object_get(obj, key));
}

static int parse_piqa(McTask *t, json_t *j, FILE *labels, LineCtx *c) {
    const char *goal = str_field(j, "goal"), *s1 = str_field(j, "sol1"), *s2 = str_field(j, "sol2");
    if (!goal || !s1 || !s2) return bad(c, "PIQA line needs goal, sol1 and sol2");
    int label;
    if (!labels || fscanf(labels, "%d", &label) != 1 || (label != 0 && label != 1))
        return bad(c, "no 0/1 label for this line in valid-labels.lst");
    const char *choices[] = {s1, s2};
    add_question(t, goal, choices, 2, label);
    return 0;
}

static int parse_arc(McTask *t, json_t *j, LineCtx *c) {
    json_t *q = json_object_get(j, "question");
    const char *stem = str_field(q, "stem"), *key = str_field(j, "answerKey");
    json_t *choices = json_object_get(q, "choices");
    size_t n = json_array_size(choices);
    if (!stem || !key || n < 2 || n > 8)
        return bad(c, "ARC line needs question.stem, 2-8 question.choices and answerKey");
    const char *texts[8];
    int label = -1;
    for (size_t i = 0; i < n; i++) {
        json_t *ch = json_array_get(choices, i);
        texts[i] = str_field(ch, "text");
        const char *l = str_field(ch, "label");
        if (!texts[i] || !l) return bad(c, "an ARC choice needs text and label");
        if (!strcmp(l, key)) label = (int)i;
    }
    if (label < 0) return bad(c, "answerKey names no choice");
    add_question(t, stem, texts, (int)n, label);
    return 0;
}

static int parse_hellaswag(McTask *t, json_t *j, LineCtx *c) {
    json_t *endings = json_object_get(j, "endings"), *lab = json_object_get(j, "label");
    size_t n = json_array_size(endings);
    int label = json_is_integer(lab)  ? (int)json_integer_value(lab)
                : json_is_string(lab) ? atoi(json_string_value(lab))
                                      : -1;
    if (n < 2 || label < 0 || (size_t)label >= n)
        return bad(c, "HellaSwag line needs endings and a label indexing them");
    // "activity: ctx_a Ctx_b" (ctx_b capitalised) when present, as the official
    // file has them and the authors' evaluation joined them, else ctx; cleaned
    // as a whole.
    const char *a = str_field(j, "ctx_a"), *b = str_field(j, "ctx_b"), *ctx = str_field(j, "ctx");
    const char *activity = str_field(j, "activity_label");
    char *body;
    if (a && b) {
        char *cb = mc_capitalize(b);
        body = join(a, " ", cb);
        free(cb);
    } else if (ctx) {
        body = join(ctx, "", "");
    } else {
        return bad(c, "HellaSwag line needs ctx (or ctx_a and ctx_b)");
    }
    char *raw = activity ? join(activity, ": ", body) : join(body, "", "");
    free(body);
    char *context = hellaswag_clean(raw);
    free(raw);
    char **choices = mallocCheck(n * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *e = json_string_value(json_array_get(endings, i));
        char *clean = hellaswag_clean(e ? e : "");
        choices[i] = join(" ", clean, "");
        free(clean);
    }
    add_example(t, context, choices, (int)n, label);
    return 0;
}

int mc_task_load(const char *task, const char *path, int limit, McTask *out, char *err,
                 size_t errlen) {
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", task);
    int kind = mc_task_index(task);
    if (kind < 0) {
        snprintf(err, errlen, "unknown task '%s' (" MC_TASK_NAMES ")", task);
        return -1;
    }
    FILE *f = fopen(path, "r"), *labels = NULL;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    if (kind == MC_PIQA) {  // PIQA keeps its labels in a separate file beside the jsonl
        char lpath[PATH_MAX];
        const char *slash = strrchr(path, '/');
        snprintf(lpath, sizeof lpath, "%.*svalid-labels.lst", slash ? (int)(slash - path + 1) : 0,
                 path);
        if (!(labels = fopen(lpath, "r"))) {
            snprintf(err, errlen, "%s: cannot open (PIQA labels belong beside %s)", lpath, path);
            fclose(f);
            return -1;
        }
    }
    LineCtx c = {path, 0, err, errlen};
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while ((limit <= 0 || out->count < limit) && getline(&line, &cap, f) > 0) {
        c.line++;
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        if (!j) {
            rc = bad(&c, "not a JSON object");
            break;
        }
        rc = kind == MC_PIQA       ? parse_piqa(out, j, labels, &c)
             : kind == MC_ARC_EASY ? parse_arc(out, j, &c)
                         : parse_hellaswag(out, j, &c);
        json_decref(j);
        if (rc) break;
    }
    free(line);
    fclose(f);
    if (labels) fclose(labels);
    if (!rc && out->count == 0) {
        snprintf(err, errlen, "%s: no examples", path);
        rc = -1;
    }
    if (rc) mc_task_free(out);
    return rc;
}

void mc_task_free(McTask *t) {
    for (int i = 0; i < t->count; i++) {
        for (int k = 0; k < t->items[i].n_choices; k++) free(t->items[i].choices[k]);
        free(t->items[i].choices);
        free(t->items[i].context);
    }
    free(t->items);
    t->items = NULL;
    t->count = 0;
}

// Per task: its name, its data file under the data folder (HellaSwag's is looked
// up separately: it is not shipped) and the metric the paper's table reports
// (experiments/published.csv reads the rebuttal's table so: PIQA and ARC-Easy as
// acc; HellaSwag's metric is not stated, so its usual acc_norm is assumed).
static const struct {
    const char *name, *data, *published_metric;
} TASKS[MC_N_TASKS] = {
    [MC_PIQA] = {"piqa", "piqa/valid.jsonl", "acc"},
    [MC_ARC_EASY] = {"arc-easy", "arc_easy/ARC-Easy-Test.jsonl", "acc"},
    [MC_HELLASWAG] = {"hellaswag", NULL, "acc_norm"},
};

const char *mc_task_name(McTaskId id) { return TASKS[id].name; }

int mc_task_index(const char *name) {
    for (int i = 0; i < MC_N_TASKS; i++)
        if (!strcmp(name, TASKS[i].name)) return i;
    return -1;
}

int mc_task_path(const char *task, const char *data_dir, char *out, size_t len, char *err,
                 size_t errlen) {
    int id = mc_task_index(task);
    if (id < 0) {
        snprintf(err, errlen, "unknown task '%s' (" MC_TASK_NAMES ")", task);
        return -1;
    }
    if (id == MC_HELLASWAG) {
        const char *env = getenv("MOT_HELLASWAG");
        const char *candidates[] = {"hellaswag/hellaswag_val.jsonl", "hellaswag_val.jsonl"};
        if (env && *env) snprintf(out, len, "%s", env);
        for (int i = 0; i < 2 && !(env && *env); i++) {
            snprintf(out, len, "%s/%s", data_dir, candidates[i]);
            if (access(out, R_OK) == 0) break;
        }
        if (access(out, R_OK) == 0) return 0;
        snprintf(err, errlen,
                 "hellaswag_val.jsonl not found: HellaSwag is not shipped; put the "
                 "official file at %s/hellaswag/hellaswag_val.jsonl or set MOT_HELLASWAG=FILE",
                 data_dir);
        return -1;
    }
    snprintf(out, len, "%s/%s", data_dir, TASKS[id].data);
    if (access(out, R_OK) == 0) return 0;
    snprintf(err, errlen,
             "%s not found: pass --data DIR or set MOT_DOWNSTREAM_DIR to a folder "
             "laid out like datasets/downstream (piqa/, arc_easy/)",
             out);
    return -1;
}

const char *mc_published_metric(const char *task) {
    int id = mc_task_index(task);
    return id < 0 ? NULL : TASKS[id].published_metric;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void mc_default_data_dir(char *out, size_t len) {
    const char *env = getenv("MOT_DOWNSTREAM_DIR");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char root[PATH_MAX], shared[PATH_MAX];
    experiment_root(root, sizeof root);
    snprintf(out, len, "%s/datasets/downstream", root);
    snprintf(shared, sizeof shared, "%s/../shared/data/downstream", root);
    if (!is_dir(out) && is_dir(shared)) snprintf(out, len, "%s", shared);
}
