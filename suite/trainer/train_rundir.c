// What the trainer writes into its run directory (names and columns: suite/rundir.h).
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "impls/checkpoint.h"
#include "kernels/base/fileio.h"
#include "suite/csvio.h"
#include "suite/paths.h"
#include "suite/trainer/train_internal.h"

// 15 significant digits: a value given as "0.003" is written 0.003, not 0.0030000000000000001.
enum { JSON_FLAGS = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15) };

void rundir_path(const Trainer *t, char *out, size_t len, const char *file) {
    snprintf(out, len, "%s/%s", t->out_dir, file);
}

static int dump_json(FILE *f, void *j, char *err, size_t errlen) {
    if (json_dumpf(j, f, JSON_FLAGS) == 0) return 0;
    snprintf(err, errlen, "cannot format JSON");
    return -1;
}

static int write_json(const Trainer *t, const char *file, json_t *j, char *err, size_t errlen) {
    char path[1200];
    rundir_path(t, path, sizeof path, file);
    return atomic_write(path, dump_json, j, err, errlen);
}

void rundir_write_status(Trainer *t, RunStatus status, double final_eval, long diverged_at,
                         const char *message) {
    if (!is_root(t)) return;
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(run_status_name(status)));
    json_object_set_new(j, "step", json_integer(t->step));
    json_object_set_new(j, "final_eval_loss", isnan(final_eval) ? json_null() : json_real(final_eval));
    json_object_set_new(j, "diverged_at", diverged_at < 0 ? json_null() : json_integer(diverged_at));
    json_object_set_new(j, "message", json_string(message ? message : ""));
    char err[TRAIN_ERR_LEN];
    if (write_json(t, RUNDIR_STATUS, j, err, sizeof err)) fprintf(stderr, "suite train: %s\n", err);
    json_decref(j);
}

// The kernel drops an flock when its process ends, however it ends, so a killed
// run never leaves its directory locked; the pid is only for the message.
int rundir_lock(Trainer *t) {
    if (!is_root(t)) return 0;  // the ranks of one job share the directory
    char path[1200];
    rundir_path(t, path, sizeof path, RUNDIR_LOCK);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return train_fail(t, "cannot create %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        char pid[32] = "";
        ssize_t n = busy ? pread(fd, pid, sizeof pid - 1, 0) : 0;
        pid[n > 0 ? strcspn(pid, "\n") : 0] = '\0';
        close(fd);
        if (busy)
            return train_fail(t, "%s is in use by another run (pid %s): wait for it to end or pick another --out",
                              t->out_dir, pid[0] ? pid : "unknown");
        return train_fail(t, "cannot lock %s: %s", path, strerror(errno));
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        close(fd);
        return train_fail(t, "cannot write %s: %s", path, strerror(errno));
    }
    t->lock_fd = fd;
    return 0;
}

void rundir_unlock(Trainer *t) {
    if (t->lock_fd >= 0) close(t->lock_fd);  // closing releases the flock
    t->lock_fd = -1;
}

void rundir_record_setup_failure(Trainer *t) {
    if (t->lock_fd < 0) return;  // not this run's directory (or not reached): leave it be
    long recorded = 0;
    run_status_read(t->out_dir, &recorded);
    if (t->step == 0) t->step = recorded;  // the checkpoint was not loaded
    rundir_write_status(t, RUN_STATUS_FAILED, NAN, -1, t->err);
}

// One option's value as JSON, typed: numbers from their text, so given values keep
// the user's spelling of the number.
static json_t *option_json(const TrainOptions *o, const TrainOption *opt) {
    char text[1024];
    train_option_text(o, opt, text, sizeof text);
    const void *field = (const char *)o + opt->offset;
    switch (opt->type) {
    case OPT_INT: return json_integer(*(const int *)field);
    case OPT_U64: return json_integer((json_int_t) * (const uint64_t *)field);
    case OPT_FLOAT: return json_real(strtod(text, NULL));
    case OPT_FLAG: return json_boolean(*(const int *)field);
    case OPT_STRING: return text[0] ? json_string(text) : json_null();
    }
    return json_null();
}

// Every option that changes results, with derived defaults resolved.
static json_t *options_json(const Trainer *t) {
    json_t *j = json_object();
    char key[64];
    for (int i = 0; i < N_TRAIN_OPTIONS; i++) {
        const TrainOption *opt = &TRAIN_OPTIONS[i];
        if (!(opt->flags & OPT_CHANGES_RESULT)) continue;
        train_option_key(opt, key, sizeof key);
        json_object_set_new(j, key, option_json(&t->o, opt));
    }
    return j;
}

static json_t *tags_json(const TrainOptions *o) {
    json_t *tags = json_object();
    for (int i = 0; i < o->n_tags; i++) {
        char key[128];
        const char *eq = strchr(o->tags[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - o->tags[i]), o->tags[i]);
        json_object_set_new(tags, key, json_string(eq + 1));
    }
    return tags;
}

static int write_config(Trainer *t) {
    json_t *j = options_json(t);
    char *model_json = model_config_to_json(&t->model.cfg);
    json_t *mj = json_loads(model_json, 0, NULL);
    free(model_json);
    json_object_set_new(j, "model_config", mj ? mj : json_null());
    json_object_set_new(j, "parameters", json_integer((json_int_t)t->model.table.total));
    json_object_set_new(j, CONFIG_TRAIN_DATASET, json_string(dataset_label(t->train)));
    json_object_set_new(j, "val_dataset", json_string(dataset_label(t->val)));
    json_object_set_new(j, CONFIG_DEVICE, json_string(t->ops->device_name()));
    json_object_set_new(j, "backend", json_string(t->ops->name));
    json_object_set_new(j, "world_size", json_integer(t->world));
    json_object_set_new(j, CONFIG_COMMIT, json_string(suite_commit()));
    json_object_set_new(j, "tags", tags_json(&t->o));
    int rc = write_json(t, RUNDIR_CONFIG, j, t->err, sizeof t->err);
    json_decref(j);
    return rc;
}

// Open a CSV for appending. Its header reaches the disk before any row: a fresh
// run creates the file durably; a resumed one keeps the rows up to its checkpoint
// and re-creates a header lost to a kill (so the lab never reads a row as one).
static FILE *open_csv(Trainer *t, const char *file, int n, const char *const *header) {
    char path[1200];
    rundir_path(t, path, sizeof path, file);
    int rc = t->o.resume ? csv_keep_rows_upto(path, t->step, n, header, t->err, sizeof t->err)
                         : csv_create(path, n, header, t->err, sizeof t->err);
    if (rc) return NULL;
    FILE *f = fopen(path, "a");
    if (!f) snprintf(t->err, sizeof t->err, "cannot open %s: %s", path, strerror(errno));
    return f;
}

int rundir_open_outputs(Trainer *t) {
    if (!is_root(t)) return 0;
    if (!(t->metrics = open_csv(t, RUNDIR_METRICS, N_METRICS_COLS, METRICS_COLS))) return -1;
    if (!(t->evals = open_csv(t, RUNDIR_EVAL, N_EVAL_COLS, EVAL_COLS))) return -1;
    if (!(t->layers = open_csv(t, RUNDIR_LAYERS, N_LAYERS_COLS, LAYERS_COLS))) return -1;
    return write_config(t);
}

void rundir_log_step(Trainer *t, const double values[N_METRICS_COLS]) {
    char bufs[N_METRICS_COLS][32];
    const char *fields[N_METRICS_COLS];
    for (int i = 0; i < N_METRICS_COLS; i++) {
        snprintf(bufs[i], sizeof bufs[i], i == METRICS_STEP ? "%.0f" : "%.6g", values[i]);
        fields[i] = bufs[i];
    }
    csv_write_row(t->metrics, N_METRICS_COLS, fields);
    fflush(t->metrics);
}

static void log_layers(Trainer *t) {
    FFStats stats[MODEL_MAX_LAYERS];
    model_ff_stats(&t->model, stats);
    for (int l = 0; l < t->model.cfg.n_layers; l++) {
        FFKind kind = t->model.ff[l].cfg.kind;
        if (!t->model.ff[l].vt->stats) continue;  // a family without routing (dense)
        char f[N_LAYERS_COLS][32];
        const char *row[N_LAYERS_COLS];
        snprintf(f[LAYERS_STEP], 32, "%ld", t->step);
        snprintf(f[LAYERS_LAYER], 32, "%d", l);
        snprintf(f[LAYERS_FAMILY], 32, "%s", ff_vtable(kind)->family);
        snprintf(f[LAYERS_ROUTER_ENTROPY], 32, "%.6f", stats[l].router_entropy);
        snprintf(f[LAYERS_DROPPED_FRACTION], 32, "%.6f", stats[l].dropped_fraction);
        snprintf(f[LAYERS_LOAD_MAX_OVER_MEAN], 32, "%.6f", stats[l].load_max_over_mean);
        snprintf(f[LAYERS_AUX_LOSS], 32, "%.6f", stats[l].aux_loss);
        for (int c = 0; c < N_LAYERS_COLS; c++) row[c] = f[c];
        csv_write_row(t->layers, N_LAYERS_COLS, row);
    }
    fflush(t->layers);
}

void rundir_log_eval(Trainer *t, double loss) {
    if (!is_root(t)) return;
    const char *mode = ff_vtable(t->model.cfg.moe_kind)->family;
    char f[N_EVAL_COLS][32];
    snprintf(f[EVAL_STEP], 32, "%ld", t->step);
    snprintf(f[EVAL_TOKENS], 32, "%.0f", (double)t->step * t->o.batch * t->T);
    snprintf(f[EVAL_LOSS], 32, "%.6f", loss);
    snprintf(f[EVAL_MODE], 32, "%s", mode);
    const char *row[N_EVAL_COLS] = {f[EVAL_STEP], f[EVAL_TOKENS], f[EVAL_LOSS], f[EVAL_MODE]};
    csv_write_row(t->evals, N_EVAL_COLS, row);
    fflush(t->evals);
    log_layers(t);
    if (!t->o.quiet) printf("eval  step %ld | %s | val loss %.4f\n", t->step, mode, loss);
}

int rundir_save_checkpoint(Trainer *t) {
    if (!is_root(t)) return 0;
    TrainState ts;
    memset(&ts, 0, sizeof ts);
    ts.step = t->step;
    ts.data_rng[0] = t->o.seed;
    ts.data_rng[1] = (uint64_t)t->step;
    ts.adam_m = t->adam_m;
    ts.adam_v = t->adam_v;
    json_t *j = options_json(t);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    snprintf(ts.train_json, sizeof ts.train_json, "%s", text);
    free(text);
    json_decref(j);
    char path[1200];
    rundir_path(t, path, sizeof path, RUNDIR_CKPT);
    return checkpoint_save(path, &t->model, &ts, t->err, sizeof t->err);
}
