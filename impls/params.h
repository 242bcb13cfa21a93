// A model's parameters: one contiguous float buffer on the device, described by a
// table of named tensors (SPEC §8 names). Gradients and AdamW moments share the
// same layout, so the optimizer, clipping, all-reduce and checkpoints never need
// to know which model they serve.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "kernels/ops.h"

enum { PARAM_MAX_DIMS = 3, PARAM_NAME_LEN = 64 };

typedef enum {
    INIT_TRUNC_NORMAL,  // N(0, std^2) cut at +-cut (absolute), SPEC §1
    INIT_UNIFORM,       // U(-bound, +bound), dense FF biases
    INIT_ONES,
    INIT_ZEROS,
} InitKind;

typedef struct {
    char name[PARAM_NAME_LEN];
    int ndim;
    int shape[PARAM_MAX_DIMS];
    size_t offset;  // in floats, into the parameter buffer
    size_t numel;
    InitKind init;
    float init_scale;  // std for TRUNC_NORMAL, bound for UNIFORM
} ParamInfo;

typedef struct {
    ParamInfo *items;
    int count, capacity;
    size_t total;  // floats
} ParamTable;

void param_table_init(ParamTable *pt);
void param_table_free(ParamTable *pt);
// Append a tensor; returns its index. Shapes are given as ndim ints.
int param_add(ParamTable *pt, const char *name, InitKind init, float init_scale, int ndim,
              ...);
// Index of a tensor by name, or -1.
int param_find(const ParamTable *pt, const char *name);
// Offset (in floats) of a tensor that must exist; dies naming it otherwise.
size_t param_offset(const ParamTable *pt, const char *name);

// Fill a host buffer (pt->total floats) with the table's initialisation. The
// truncated normal draws depend only on the seed and the tensor's name, so
// adding a tensor never changes the others.
void param_init_host(const ParamTable *pt, float *host, uint64_t seed);

// SPEC §1 truncated normal: std sqrt(0.1 / fan_in), cut at absolute +-0.2.
float init_std_for_fan_in(int fan_in);
#define INIT_TRUNC_CUT 0.2f
