#include "datasets/progress.h"

#include <stdio.h>
#include <string.h>

#include "kernels/base/check.h"
#include "kernels/base/clock.h"

enum { PRINT_INTERVAL_MS = 500 };

void progress_start(Progress *p, uint64_t total_file_bytes, int quiet) {
    memset(p, 0, sizeof *p);
    p->total_file_bytes = total_file_bytes;
    p->quiet = quiet;
    p->start = p->last_print = monotonic_seconds();
}

static void print_line(Progress *p, double now) {
    double elapsed = now - p->start > 1e-9 ? now - p->start : 1e-9;
    double done = p->total_file_bytes ? (double)p->file_bytes / (double)p->total_file_bytes : 1.0;
    double eta = done > 0 ? elapsed * (1.0 - done) / done : 0;
    fprintf(stderr, "\rtokenizing: %5.1f%% of %.1f MB | %.2f MB/s text | %.2f M tokens/s | ETA %dm%02ds ",
            100.0 * done, p->total_file_bytes / 1e6, p->text_bytes / 1e6 / elapsed,
            p->tokens / 1e6 / elapsed, (int)eta / 60, (int)eta % 60);
    p->printed = 1;
}

void progress_add(Progress *p, uint64_t file_bytes, uint64_t text_bytes, uint64_t tokens) {
#pragma omp atomic
    p->file_bytes += file_bytes;
#pragma omp atomic
    p->text_bytes += text_bytes;
#pragma omp atomic
    p->tokens += tokens;
    if (p->quiet) return;
    double now = monotonic_seconds(), last;
#pragma omp atomic read
    last = p->last_print;
    if (now - last < PRINT_INTERVAL_MS / 1000.0) return;
#pragma omp critical(progress_print)
    if (now - p->last_print >= PRINT_INTERVAL_MS / 1000.0) {
#pragma omp atomic write
        p->last_print = now;
        print_line(p, now);
    }
}

void progress_finish(Progress *p) {
    if (p->quiet) return;
    double now = monotonic_seconds();
    print_line(p, now);
    fprintf(stderr, "\ntokenized %.1f MB of text into %llu tokens in %.1f s\n", p->text_bytes / 1e6,
            (unsigned long long)p->tokens, now - p->start);
}
