// Experiment definitions: YAML tree -> validated RunSpecs at one scale.
#include "suite/lab/experiment.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datasets/tokenizer.h"
#include "impls/model.h"
#include "kernels/base/error.h"
#include "kernels/common.h"
#include "suite/lab/downstream.h"
#include "suite/lab/experiment_yaml.h"
#include "suite/number.h"
#include "suite/paths.h"

// paper: the paper's recipe, one seed judged against the published tolerance.
// small: one GPU, 3 seeds so every verdict has a noise estimate.
// cpu:   2 CPU cores, about 3 hours for everything, 3 seeds; the one scale where
//        a reduced GPT-2 vocabulary is allowed (experiments/README.md).
// tiny:  the CPU smoke test (CI): far too short to show any claim, so one seed
//        (replicates would only measure the noise of runs that are never judged).
static const ScaleInfo SCALES[N_SCALES] = {
    {"paper", "mixed", 1, 0, 1, 0, 0},
    {"small", "mixed", 3, 0, 0, 0, 0},
    {"cpu", "fp32", 3, 0, 0, 1, 1},
    {"tiny", "fp32", 1, 1, 0, 1, 0},
};

const ScaleInfo *scale_info(Scale s) { return &SCALES[s >= 0 && s < N_SCALES ? s : 0]; }

const char *scale_name(Scale s) { return (s >= 0 && s < N_SCALES) ? SCALES[s].name : "?"; }

int scale_parse(const char *name, Scale *out) {
    for (int s = 0; s < N_SCALES; s++)
        if (!strcmp(name, SCALES[s].name)) {
            *out = (Scale)s;
            return 0;
        }
    return -1;
}

// ---- errors ------------------------------------------------------------------

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} Ctx;

static int fail(Ctx *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Ctx *c, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verror_at(c->err, c->errlen, c->path, line, fmt, ap);
    va_end(ap);
    return -1;
}

// Reject keys outside allowed[] (NULL-terminated), naming the allowed ones.
static int check_keys(Ctx *c, const YNode *map, const char *what, const char *const *allowed) {
    for (int i = 0; i < map->count; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= !strcmp(map->keys[i], *a);
        if (ok) continue;
        char list[256] = "";
        for (const char *const *a = allowed; *a; a++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     a == allowed ? "" : ", ", *a);
        return fail(c, map->items[i]->line, "unknown key '%s' in %s (expected one of: %s)",
                    map->keys[i], what, list);
    }
    return 0;
}

static int expect_kind(Ctx *c, const YNode *n, YNodeKind kind, const char *what) {
    static const char *const kinds[] = {"a single value", "a list", "a mapping"};
    if (n->kind == kind) return 0;
    return fail(c, n->line, "%s must be %s", what, kinds[kind]);
}

// ---- values: one for every scale, or {paper: .., small: .., tiny: ..} ----------

// The node that holds key's value at scale s, or NULL when key is absent or its
// per-scale mapping has no entry for s. A per-scale mapping is recognised by
// its keys being scale names.
static int pick_scale(Ctx *c, const YNode *v, Scale s, const YNode **out) {
    *out = v;
    if (!v || v->kind != YNODE_MAP) return 0;
    Scale unused;
    int per_scale = 0;
    for (int i = 0; i < v->count; i++) per_scale |= !scale_parse(v->keys[i], &unused);
    if (!per_scale) return 0;
    for (int i = 0; i < v->count; i++)
        if (scale_parse(v->keys[i], &unused))
            return fail(c, v->items[i]->line, "unknown scale '%s' (expected " SCALE_CHOICES ")",
                        v->keys[i]);
    *out = ynode_get(v, scale_name(s));
    return 0;
}

// ---- run values: the training options of the option table, plus `data` ---------

static const char *const DATASETS[] = {"c4-sample", "english-standin", "c4", NULL};

// The option a definition may set under key, or NULL (unknown, or set by `suite run`).
static const TrainOption *definable(const char *key) {
    const TrainOption *opt = train_option_find(key);
    return opt && !(opt->flags & OPT_SET_BY_RUNNER) ? opt : NULL;
}

const char *run_value(const RunSpec *run, const char *option) {
    const TrainOption *opt = train_option_find(option);
    if (!opt) die("run_value: '%s' is not in the option table", option);
    const char *v = run->values[opt - TRAIN_OPTIONS];
    return v[0] ? v : NULL;
}

long run_number(const RunSpec *run, const char *option) {
    const char *v = run_value(run, option);
    long x = 0;
    return v && !number_parse_long(v, &x) ? x : 0;
}

int run_set_value(RunSpec *run, const char *option, const char *text, char *err, size_t errlen) {
    const TrainOption *opt = train_option_find(option);
    char key[64], canonical[EXP_VALUE_LEN], why[256];
    if (!opt) return errorf(err, errlen, "'%s' is not a training option", option);
    train_option_key(opt, key, sizeof key);
    if (strlen(text) >= EXP_VALUE_LEN) return errorf(err, errlen, "%s: '%s' is too long", key, text);
    if (train_option_canonical(opt, text, canonical, sizeof canonical, why, sizeof why))
        return errorf(err, errlen, "%s: %s", key, why);
    snprintf(run->values[opt - TRAIN_OPTIONS], EXP_VALUE_LEN, "%s", text);
    return 0;
}

int experiment_vocab_size(const Experiment *e) {
    int vocab = 0;
    for (int i = 0; i < e->n_runs; i++) {
        ModelConfig cfg;
        char err[256];
        if (model_config_by_name(run_value(&e->runs[i], "model"), &cfg, err, sizeof err)) return 0;
        if (vocab && cfg.vocab_size != vocab) return 0;
        vocab = cfg.vocab_size;
    }
    return vocab;
}

int run_cost(const RunSpec *run, double *tokens, double *flops) {
    ModelConfig cfg;
    char err[256];
    *tokens = *flops = 0;
    if (model_config_by_name(run_value(run, "model"), &cfg, err, sizeof err)) return -1;
    int T = run_value(run, "seq_len") ? (int)run_number(run, "seq_len") : cfg.max_seq_len;
    *tokens = (double)run_number(run, "steps") * run_number(run, "batch") * T;
    *flops = *tokens * model_flops_per_token(&cfg, T);
    return 0;
}

static int set_data(Ctx *c, const YNode *n, RunSpec *r) {
    if (expect_kind(c, n, YNODE_SCALAR, "data")) return -1;
    for (const char *const *d = DATASETS; *d; d++)
        if (!strcmp(*d, n->value)) {
            snprintf(r->data, sizeof r->data, "%s", n->value);
            return 0;
        }
    return fail(c, n->line, "data: unknown dataset '%s' (expected c4-sample, english-standin or c4)",
                n->value);
}

static int parse_long(Ctx *c, const YNode *n, const char *key, long min, long *out);

// Apply every run key present in map (at scale s) onto r: the options, then
// seeds and data. *has_model is set when the map gives a model at this scale.
static int apply_values(Ctx *c, const YNode *map, Scale s, RunSpec *r, int *has_model) {
    char key[64], err[512];
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const TrainOption *opt = &TRAIN_OPTIONS[i];
        const YNode *v;
        train_option_key(opt, key, sizeof key);
        if (pick_scale(c, ynode_get(map, key), s, &v)) return -1;
        if (!v || !definable(key)) continue;
        if (expect_kind(c, v, YNODE_SCALAR, key)) return -1;
        if (run_set_value(r, key, v->value, err, sizeof err)) return fail(c, v->line, "%s", err);
        if (!strcmp(opt->name, "model") && has_model) *has_model = 1;
    }
    const YNode *seeds, *data;
    long n_seeds;
    if (pick_scale(c, ynode_get(map, "seeds"), s, &seeds)) return -1;
    if (seeds && parse_long(c, seeds, "seeds", 1, &n_seeds)) return -1;
    if (seeds && n_seeds > EXP_MAX_SEEDS)
        return fail(c, seeds->line, "seeds: %ld is more than %d", n_seeds, EXP_MAX_SEEDS);
    if (seeds) r->n_seeds = (int)n_seeds;
    if (pick_scale(c, ynode_get(map, "data"), s, &data)) return -1;
    return data ? set_data(c, data, r) : 0;
}

// Every key of a run (or, without name and model, of a scale's defaults) is a
// definable option, `data` or (in a run) `name`.
static int check_run_keys(Ctx *c, const YNode *map, const char *what, int is_run) {
    for (int i = 0; i < map->count; i++) {
        const char *key = map->keys[i];
        int line = map->items[i]->line;
        int ok = !strcmp(key, "data") || !strcmp(key, "seeds") || (is_run && !strcmp(key, "name"));
        ok |= definable(key) && (is_run || strcmp(key, "model"));
        if (ok) continue;
        if (train_option_find(key))
            return fail(c, line, "%s is set by `suite run` itself, not by a definition", key);
        char list[1024] = "";
        int n = snprintf(list, sizeof list, "%sdata, seeds", is_run ? "name, " : "");
        for (int k = 0; k < N_TRAIN_OPTIONS && n < (int)sizeof list; k++) {
            char name[64];
            train_option_key(&TRAIN_OPTIONS[k], name, sizeof name);
            if (definable(name) && (is_run || strcmp(name, "model")))
                n += snprintf(list + n, sizeof list - n, ", %s", name);
        }
        return fail(c, line, "unknown key '%s' in %s (expected one of: %s)", key, what, list);
    }
    return 0;
}

// "MoT-Medium/32E (bf16)" -> "mot-medium_32e-bf16": lower case, '/' -> '_',
// other punctuation -> one '-'.
static void make_slug(const char *name, char *slug, size_t len) {
    size_t j = 0;
    for (const char *p = name; *p && j + 1 < len; p++) {
        unsigned char ch = (unsigned char)*p;
        char out = isalnum(ch) || ch == '.' ? (char)tolower(ch) : ch == '/' ? '_' : '-';
        if (out == '-' && (j == 0 || slug[j - 1] == '-' || slug[j - 1] == '_')) continue;
        slug[j++] = out;
    }
    while (j > 0 && slug[j - 1] == '-') j--;
    slug[j] = '\0';
}

static const char *const TOP_KEYS[] = {"name",   "title", "description", "plot", "table",
                                       "scales", "runs",  "downstream",  NULL};
static const char *const DOWNSTREAM_KEYS[] = {"tasks", "limit", NULL};

static int get_text(Ctx *c, const YNode *root, const char *key, char *dst, size_t len,
                    int required) {
    const YNode *n = ynode_get(root, key);
    if (!n) return required ? fail(c, 1, "missing key '%s'", key) : 0;
    if (expect_kind(c, n, YNODE_SCALAR, key)) return -1;
    if (strlen(n->value) >= len) return fail(c, n->line, "%s is too long", key);
    snprintf(dst, len, "%s", n->value);
    return 0;
}

static int parse_long(Ctx *c, const YNode *n, const char *key, long min, long *out) {
    if (expect_kind(c, n, YNODE_SCALAR, key)) return -1;
    if (number_parse_long(n->value, out) || *out < min)
        return fail(c, n->line, "%s: '%s' is not an integer >= %ld", key, n->value, min);
    return 0;
}

static int parse_downstream(Ctx *c, const YNode *ds, Scale s, Experiment *e) {
    if (!ds) return 0;
    if (expect_kind(c, ds, YNODE_MAP, "downstream") ||
        check_keys(c, ds, "downstream", DOWNSTREAM_KEYS))
        return -1;
    const YNode *tasks = ynode_get(ds, "tasks");
    if (!tasks) return fail(c, ds->line, "downstream needs 'tasks'");
    if (expect_kind(c, tasks, YNODE_SEQ, "downstream.tasks")) return -1;
    if (tasks->count > EXP_MAX_TASKS) return fail(c, tasks->line, "too many tasks");
    for (int i = 0; i < tasks->count; i++) {
        const YNode *t = tasks->items[i];
        if (expect_kind(c, t, YNODE_SCALAR, "a task")) return -1;
        if (mc_task_index(t->value) < 0)
            return fail(c, t->line, "unknown task '%s' (expected " MC_TASK_NAMES ")", t->value);
        snprintf(e->tasks[i], sizeof e->tasks[i], "%s", t->value);
    }
    e->n_tasks = tasks->count;
    const YNode *limit;
    if (pick_scale(c, ynode_get(ds, "limit"), s, &limit)) return -1;
    if (limit) {
        long v;
        if (parse_long(c, limit, "downstream.limit", 0, &v)) return -1;
        e->downstream_limit = (int)v;
    }
    return 0;
}

// The whole file at one scale.
static int expand(Ctx *c, const YNode *root, Scale s, Experiment *e) {
    memset(e, 0, sizeof *e);
    e->scale = s;
    snprintf(e->path, sizeof e->path, "%s", c->path);
    if (expect_kind(c, root, YNODE_MAP, "an experiment file") ||
        check_keys(c, root, "the experiment", TOP_KEYS) ||
        get_text(c, root, "name", e->name, sizeof e->name, 1) ||
        get_text(c, root, "title", e->title, sizeof e->title, 1) ||
        get_text(c, root, "plot", e->plot, sizeof e->plot, 1))
        return -1;
    if (strcmp(e->plot, "eval-loss") && strcmp(e->plot, "train-loss"))
        return fail(c, ynode_get(root, "plot")->line,
                    "plot: '%s' (expected eval-loss or train-loss)", e->plot);
    if (get_text(c, root, "table", e->table, sizeof e->table, 0)) return -1;
    if (e->table[0] && strcmp(e->table, "precision"))
        return fail(c, ynode_get(root, "table")->line, "table: '%s' (expected precision)",
                    e->table);
    const YNode *desc = ynode_get(root, "description");
    if (desc && expect_kind(c, desc, YNODE_SCALAR, "description")) return -1;

    const YNode *scales = ynode_get(root, "scales");
    if (!scales) return fail(c, 1, "missing key 'scales' (defaults for " SCALE_CHOICES ")");
    if (expect_kind(c, scales, YNODE_MAP, "scales")) return -1;
    for (int i = 0; i < scales->count; i++) {
        Scale unused;
        if (scale_parse(scales->keys[i], &unused))
            return fail(c, scales->items[i]->line,
                        "unknown scale '%s' (expected " SCALE_CHOICES ")", scales->keys[i]);
    }
    const YNode *defaults = ynode_get(scales, scale_name(s));
    if (!defaults)
        return fail(c, scales->line, "scales: no '%s' section: this experiment is not defined at scale %s",
                    scale_name(s), scale_name(s));
    if (expect_kind(c, defaults, YNODE_MAP, scale_name(s)) ||
        check_run_keys(c, defaults, "a scale's defaults", 0))
        return -1;
    RunSpec base = {.n_seeds = scale_info(s)->seeds};
    if (apply_values(c, defaults, s, &base, NULL)) return -1;
    if (!run_value(&base, "precision"))
        run_set_value(&base, "precision", scale_info(s)->precision, NULL, 0);  // a valid word

    const YNode *runs = ynode_get(root, "runs");
    if (!runs) return fail(c, 1, "missing key 'runs'");
    if (expect_kind(c, runs, YNODE_SEQ, "runs")) return -1;
    for (int i = 0; i < runs->count; i++) {
        const YNode *rn = runs->items[i];
        if (expect_kind(c, rn, YNODE_MAP, "a run") || check_run_keys(c, rn, "a run", 1))
            return -1;
        RunSpec r = base;
        int has_model = 0;
        if (get_text(c, rn, "name", r.name, sizeof r.name, 0)) return -1;
        if (!r.name[0]) return fail(c, rn->line, "a run needs a 'name' (the paper's name)");
        if (!ynode_get(rn, "model")) return fail(c, rn->line, "run '%s' needs a 'model'", r.name);
        if (apply_values(c, rn, s, &r, &has_model)) return -1;
        if (!has_model) continue;  // not part of the experiment at this scale
        if (!run_value(&r, "steps") || !run_value(&r, "batch") || !r.data[0])
            return fail(c, rn->line,
                        "run '%s' at scale %s needs steps, batch and data "
                        "(from the run or from scales.%s)",
                        r.name, scale_name(s), scale_name(s));
        ModelConfig cfg;
        char why[256];
        if (!model_config_by_name(run_value(&r, "model"), &cfg, why, sizeof why) &&
            cfg.vocab_size != GPT2_VOCAB_SIZE && !scale_info(s)->reduced_vocab_ok)
            return fail(c, rn->line,
                        "run '%s': %s has a reduced vocabulary (V=%d), allowed at the cpu "
                        "scale only; use a model with GPT-2's %d tokens at scale %s",
                        r.name, cfg.name, cfg.vocab_size, GPT2_VOCAB_SIZE, scale_name(s));
        make_slug(r.name, r.slug, EXP_SLUG_BASE_LEN + 1);
        size_t len = strlen(r.slug);
        for (int j = 0; j < e->n_runs; j++)
            if (!strcmp(e->runs[j].name, r.name) ||
                (!strncmp(e->runs[j].slug, r.slug, len) && e->runs[j].slug[len] == '/'))
                return fail(c, rn->line, "run name '%s' is used twice", r.name);
        experiment_push_replicates(e, &r, r.n_seeds);
    }
    if (e->n_runs == 0) return fail(c, runs->line, "no run has a model at scale %s", scale_name(s));
    return parse_downstream(c, ynode_get(root, "downstream"), s, e);
}

int experiment_load(const char *path, Scale scale, Experiment *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    YNode *root = ynode_load(path, err, errlen);
    if (!root) return -1;
    Ctx c = {path, err, errlen};
    int rc = 0;
    // Expand every scale the file defines so a mistake anywhere in it is caught
    // now; only the scale asked for must be there.
    const YNode *scales = ynode_get(root, "scales");
    for (int s = 0; s < N_SCALES && !rc; s++) {
        if ((Scale)s != scale && scales && scales->kind == YNODE_MAP &&
            !ynode_get(scales, scale_name((Scale)s)))
            continue;
        Experiment e;
        rc = expand(&c, root, (Scale)s, &e);
        if (!rc && (Scale)s == scale) {
            *out = e;
            continue;
        }
        experiment_free(&e);
    }
    if (!rc) {
        // The file's name is the experiment's name: `suite run fig-params`.
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        size_t n = strlen(out->name);
        if (strncmp(base, out->name, n) || strcmp(base + n, ".yaml"))
            rc = fail(&c, ynode_get(root, "name")->line,
                      "name '%s' must match the file name (%s.yaml)", out->name, out->name);
    }
    ynode_free(root);
    if (rc) experiment_free(out);
    return rc;
}

void experiment_free(Experiment *e) {
    free(e->runs);
    e->runs = NULL;
    e->n_runs = 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

int experiment_list_names(const char *root, char names[][EXP_NAME_LEN], int max) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/experiments", root);
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) && n < max;) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || len - 5 >= EXP_NAME_LEN || strcmp(de->d_name + len - 5, ".yaml")) continue;
        snprintf(names[n], EXP_NAME_LEN, "%.*s", (int)(len - 5), de->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, EXP_NAME_LEN, cmp_names);
    return n;
}

int experiment_load_by_name(const char *root, const char *name, Scale scale, Experiment *out,
                            char *err, size_t errlen) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/experiments/%s.yaml", root, name);
    if (access(path, R_OK) == 0) return experiment_load(path, scale, out, err, errlen);
    char names[64][EXP_NAME_LEN];
    int n = experiment_list_names(root, names, 64);
    int k = snprintf(err, errlen, "unknown experiment '%s'; known:", name);
    for (int i = 0; i < n && k > 0 && (size_t)k < errlen; i++)
        k += snprintf(err + k, errlen - k, " %s", names[i]);
    if (n < 0) snprintf(err, errlen, "%s: cannot read %s/experiments", name, root);
    memset(out, 0, sizeof *out);
    return -1;
}

int experiment_find_run(const Experiment *e, const char *run_name) {
    for (int i = 0; i < e->n_runs; i++)
        if (!strcmp(e->runs[i].name, run_name)) return i;
    return -1;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// The English stand-in's folder: $MOT_STANDIN_DIR, else the shipped
// ROOT/datasets/english-standin, else ROOT/../shared/data/english-standin. 0, or
// -1 with dir naming the first place looked (the variable when set).
static int standin_dir(const char *root, char *dir, size_t len) {
    const char *env = getenv("MOT_STANDIN_DIR");
    if (env && *env) {
        snprintf(dir, len, "%s", env);
        return is_dir(dir) ? 0 : -1;
    }
    char shared[PATH_MAX];
    snprintf(shared, sizeof shared, "%s/../shared/data/english-standin", root);
    snprintf(dir, len, "%s/datasets/english-standin", root);
    if (is_dir(dir)) return 0;
    if (!is_dir(shared)) return -1;
    snprintf(dir, len, "%s", shared);
    return 0;
}

int experiment_data_paths(const char *root, const char *dataset, char *train, char *val, size_t len,
                          char *err, size_t errlen) {
    train[0] = val[0] = '\0';
    if (!strcmp(dataset, "c4-sample")) return 0;
    if (!strcmp(dataset, "english-standin")) {
        char dir[PATH_MAX];
        if (standin_dir(root, dir, sizeof dir)) {
            snprintf(err, errlen,
                     "english-standin data not found at %s: set MOT_STANDIN_DIR "
                     "to the folder holding standin-train.*.json.gz and "
                     "standin-validation.*.json.gz (the project ships it in datasets/english-standin)",
                     dir);
            return -1;
        }
        snprintf(train, len, "%s/standin-train.*.json.gz", dir);
        snprintf(val, len, "%s/standin-validation.*.json.gz", dir);
        return 0;
    }
    if (!strcmp(dataset, "c4")) {
        const char *env = getenv("MOT_C4_DIR");
        if (!env || !*env || !is_dir(env)) {
            snprintf(err, errlen,
                     "paper scale trains on real C4: set MOT_C4_DIR to a folder "
                     "holding allenai/c4 en/c4-train.*.json.gz and en/c4-validation.*.json.gz%s",
                     env && *env ? " (the current value is not a folder)" : "");
            return -1;
        }
        snprintf(train, len, "%s/en/c4-train.*.json.gz", env);
        snprintf(val, len, "%s/en/c4-validation.*.json.gz", env);
        return 0;
    }
    snprintf(err, errlen, "unknown dataset '%s'", dataset);
    return -1;
}

void experiment_root(char *out, size_t len) {
    suite_path(out, len, "experiments");  // beside the binary, else relative to cwd
    char *slash = strrchr(out, '/');
    if (slash) *slash = '\0';
    else snprintf(out, len, ".");
}
