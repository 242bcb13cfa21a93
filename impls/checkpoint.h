// Checkpoints: safetensors files (SPEC §8). Model tensors carry the SPEC names in
// PyTorch layout; training state (AdamW moments) is stored beside them as
// "optim.m.<name>" / "optim.v.<name>" so one file resumes a run atomically.
// __metadata__ holds "config" (the ModelConfig as JSON), "step", "data_rng" and
// "train" (the trainer's own JSON, opaque here).
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "impls/model.h"

typedef struct {
    long step;              // optimizer steps completed
    uint64_t data_rng[4];   // data packer state
    float *adam_m, *adam_v; // device buffers of m->table.total floats, or NULL
    char train_json[8192];  // trainer settings, stored verbatim ("" if none)
} TrainState;

// Write atomically: PATH.tmp, fsync, rename over PATH, fsync the directory.
// ts may be NULL (weights only). 0, or -1 with err.
int checkpoint_save(const char *path, const Model *m, const TrainState *ts, char *err,
                    size_t errlen);
// Read only the model config stored in the file (to build the Model first).
int checkpoint_read_config(const char *path, ModelConfig *cfg, char *err, size_t errlen);
// Load weights into an already created model with the same tensor table, and the
// training state when ts is non-NULL (ts->adam_m/v must then be allocated;
// it is an error if the file has no optimizer state). 0, or -1 with err that names
// the file and what is wrong (truncated, bad header, missing/misshapen tensor).
int checkpoint_load(const char *path, Model *m, TrainState *ts, char *err, size_t errlen);

// ModelConfig <-> JSON text (jansson). from_json returns 0 or -1 with err.
char *model_config_to_json(const ModelConfig *cfg);  // malloc'd
int model_config_from_json(const char *json, ModelConfig *cfg, char *err, size_t errlen);
