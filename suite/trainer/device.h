// Choosing the op table for --device and the peak throughput MFU is measured against.
#pragma once
#include <stddef.h>

#include "kernels/ops.h"

// "cpu", "cuda" or "auto" (CUDA when a GPU is present). NULL with err when the
// name is unknown or CUDA was asked for and is unavailable (err says why).
const Ops *device_select(const char *name, char *err, size_t errlen);
// The precision when none is asked for: fp32 on the CPU (its kernels gain nothing
// from bf16), mixed on CUDA.
Precision device_default_precision(const Ops *ops);

// Peak FLOP/s for MFU. CUDA: the datasheet dense peak of the GPU model for the
// precision (bf16 tensor cores for mixed/bf16, plain fp32 otherwise). CPU: the
// sgemm rate measured on the spot (once per process). source describes which.
double device_peak_flops(const Ops *ops, Precision p, char *source, size_t len);

// Activation memory of a micro-batch is affine in its rows: fixed workspaces plus
// per-row buffers. Two measured points give both parts; one point scaled linearly
// would count the fixed part once per multiple and overestimate large batches.
typedef struct {
    int rows;      // micro-batch rows reserved
    double bytes;  // device memory they took
} MemoryPoint;

// Bytes `rows` rows need, on the line through a and b (a.rows != b.rows). A slope
// that is not positive (noise in a small probe) counts as no growth: the larger point.
double memory_predict_bytes(MemoryPoint a, MemoryPoint b, int rows);
// The most rows whose prediction fits in budget bytes, a multiple of multiple_of
// (the MoT group size); INT_MAX when the prediction does not grow and fits, 0 when
// no such multiple fits.
int memory_max_rows(MemoryPoint a, MemoryPoint b, double budget, int multiple_of);
