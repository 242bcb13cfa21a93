#include "suite/rundir.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

const char *const METRICS_COLS[N_METRICS_COLS] = {
    "step", "loss", "ce_loss", "aux_loss", "lr", "grad_norm", "tokens_per_s", "mfu", "elapsed_s"};
const char *const EVAL_COLS[N_EVAL_COLS] = {"step", "tokens", "eval_loss", "mode"};
const char *const LAYERS_COLS[N_LAYERS_COLS] = {
    "step", "layer", "family", "router_entropy", "dropped_fraction", "load_max_over_mean", "aux_loss"};
const char *const DOWNSTREAM_COLS[N_DOWNSTREAM_COLS] = {
    "task", "examples", "acc", "acc_se", "acc_norm", "acc_norm_se", "published", "status"};

static const char *const STATUS_NAMES[] = {"not run", "running", "finished", "diverged", "failed"};

const char *run_status_name(RunStatus s) { return STATUS_NAMES[s]; }

RunStatus run_status_parse(const char *word) {
    for (int s = RUN_STATUS_RUNNING; s <= RUN_STATUS_FAILED; s++)
        if (word && !strcmp(word, STATUS_NAMES[s])) return (RunStatus)s;
    return RUN_STATUS_NONE;
}

RunStatus run_status_read(const char *run_dir, long *step) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" RUNDIR_STATUS, run_dir);
    json_t *j = json_load_file(path, 0, NULL);
    RunStatus s = run_status_parse(j ? json_string_value(json_object_get(j, "status")) : NULL);
    *step = j ? (long)json_integer_value(json_object_get(j, "step")) : 0;
    json_decref(j);
    return s;
}
