// Host memory is the CPU table's "device" memory: transfers are memcpy and there
// is nothing to synchronise.
#include <omp.h>
#include <unistd.h>

#include "kernels/common.h"
#include "kernels/ops_cpu.h"

void *alloc_cpu(size_t bytes) { return callocCheck(bytes, 1); }

void free_cpu(void *p) { free(p); }

void copy_cpu(void *dst, const void *src, size_t bytes) {
    if (bytes) memcpy(dst, src, bytes);
}

void zero_cpu(void *p, size_t bytes) {
    if (bytes) memset(p, 0, bytes);
}

void synchronize_cpu(void) {}

// MemAvailable from /proc/meminfo counts reclaimable page cache, which is what a
// run can really use; free physical pages are the fallback off Linux.
size_t memory_available_cpu(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kib = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
    if (f) fclose(f);
    if (kib) return (size_t)kib * 1024;
    return (size_t)sysconf(_SC_AVPHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
}

// "AMD EPYC 7B13 (16 threads)": the CPU model from /proc/cpuinfo and the OpenMP
// thread count the kernels use. The string lives in a static buffer, rebuilt
// identically on every call.
const char *device_name_cpu(void) {
    static char name[160];
    char model[128] = "unknown CPU", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "model name : %127[^\n]", model) == 1) break;
    if (f) fclose(f);
    snprintf(name, sizeof name, "%s (%d threads)", model, omp_get_max_threads());
    return name;
}
