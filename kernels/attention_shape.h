// The shape of one attention call, shared by the C reference (kernels/attention.c)
// and the CUDA twin (kernels/cuda/attention.cu): head size hs = C/NH and the score
// scale 1/sqrt(hs). Written in the common subset of C and C++ so both compile it.
#pragma once
#include <math.h>

#include "kernels/base/check.h"

typedef struct {
    int B, T, C, NH, hs;
    float scale;  // 1/sqrt(hs)
} AttentionShape;

static inline AttentionShape attention_shape(int B, int T, int C, int NH) {
    if (NH <= 0 || C % NH != 0)
        die("attention: channels C=%d must split evenly into NH=%d heads", C, NH);
    AttentionShape s;
    s.B = B;
    s.T = T;
    s.C = C;
    s.NH = NH;
    s.hs = C / NH;
    s.scale = 1.0f / sqrtf((float)s.hs);
    return s;
}
