#include "suite/trainer/device.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "kernels/gemm.h"

const Ops *device_select(const char *name, char *err, size_t errlen) {
    const char *why = NULL;
    if (!strcmp(name, "cpu")) return &ops_cpu;
    if (!strcmp(name, "cuda") || !strcmp(name, "auto")) {
        const Ops *cuda = ops_cuda(&why);
        if (cuda) return cuda;
        if (!strcmp(name, "auto")) return &ops_cpu;
        snprintf(err, errlen, "--device cuda unavailable: %s (use --device cpu)", why ? why : "unknown reason");
        return NULL;
    }
    snprintf(err, errlen, "unknown --device '%s' (use cpu, cuda or auto)", name);
    return NULL;
}

Precision device_default_precision(const Ops *ops) {
    return strcmp(ops->name, "cuda") ? PREC_FP32 : PREC_MIXED;
}

typedef struct {
    const char *match;  // substring of the device name
    double bf16, fp32;  // dense TFLOP/s (SXM datasheets)
} GpuPeak;

static const GpuPeak GPU_PEAKS[] = {
    {"H200", 989.4, 66.9},
    {"H100", 989.4, 66.9},
    {"A100", 312.0, 19.5},
    {"L40S", 362.0, 91.6},
    {"A10", 125.0, 31.2},
};

double device_peak_flops(const Ops *ops, Precision p, char *source, size_t len) {
    if (!strcmp(ops->name, "cpu")) {
        static double measured;
        if (measured == 0) measured = gemm_measure_gflops(512, 512, 512, 0.25) * 1e9;
        snprintf(source, len, "measured sgemm %.1f GFLOP/s", measured / 1e9);
        return measured;
    }
    const char *name = ops->device_name();
    for (size_t i = 0; i < sizeof GPU_PEAKS / sizeof GPU_PEAKS[0]; i++)
        if (strstr(name, GPU_PEAKS[i].match)) {
            int bf16 = precision_bf16_products(p);
            double tf = bf16 ? GPU_PEAKS[i].bf16 : GPU_PEAKS[i].fp32;
            snprintf(source, len, "%s peak %.0f TFLOP/s (%s)", GPU_PEAKS[i].match, tf,
                     bf16 ? "bf16" : "fp32");
            return tf * 1e12;
        }
    snprintf(source, len, "unknown GPU '%s', assumed H100 bf16 peak 989 TFLOP/s", name);
    return 989.4e12;
}

static double memory_slope(MemoryPoint a, MemoryPoint b) {
    return (b.bytes - a.bytes) / (double)(b.rows - a.rows);
}

double memory_predict_bytes(MemoryPoint a, MemoryPoint b, int rows) {
    double slope = memory_slope(a, b);
    if (!(slope > 0)) return a.bytes > b.bytes ? a.bytes : b.bytes;
    return a.bytes + slope * (double)(rows - a.rows);
}

int memory_max_rows(MemoryPoint a, MemoryPoint b, double budget, int multiple_of) {
    double slope = memory_slope(a, b);
    if (!(slope > 0)) return memory_predict_bytes(a, b, 0) <= budget ? INT_MAX : 0;
    double rows = a.rows + (budget - a.bytes) / slope;
    if (rows < multiple_of) return 0;
    if (rows > INT_MAX) return INT_MAX;
    return (int)rows / multiple_of * multiple_of;
}
