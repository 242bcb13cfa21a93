// Shared by every kernel and model file: the foundation's checked allocation and
// error exits, and bf16 rounding used to emulate reduced precision.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/base/check.h"
#include "kernels/base/clock.h"

// Round an fp32 value to the nearest bf16 value (round-to-nearest-even), kept in
// fp32 storage. NaN stays NaN. Used by the CPU path to emulate bf16 operands.
static inline float round_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return x;  // inf/nan unchanged
    u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}
