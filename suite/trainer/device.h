// Choosing the op table for --device and the peak throughput MFU is measured against.
#pragma once
#include <stddef.h>

#include "kernels/ops.h"

// "cpu", "cuda" or "auto" (CUDA when a GPU is present). NULL with err when the
// name is unknown or CUDA was asked for and is unavailable (err says why).
const Ops *device_select(const char *name, char *err, size_t errlen);

// Peak FLOP/s for MFU. CUDA: the datasheet dense peak of the GPU model for the
// precision (bf16 tensor cores for mixed/bf16, plain fp32 otherwise). CPU: the
// sgemm rate measured on the spot (once per process). source describes which.
double device_peak_flops(const Ops *ops, Precision p, char *source, size_t len);
