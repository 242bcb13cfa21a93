// `make test-gpu` (build/test_gpu): every CUDA op and whole models against the C
// reference. Exits 1 when CUDA is unavailable or any row fails.
//   --quick        reduced sizes and short model runs (under compute-sanitizer)
//   --no-models    op and routing tables only
//   --model NAME   only the model cases whose name contains NAME
//   --cpu-vs-cpu   a CPU table stands in for CUDA: every row runs without a GPU
//   --break OP     as --cpu-vs-cpu with OP deliberately broken (tests/gpu/broken_ops.c);
//                  exits 0 only if exactly the rows of OP failed
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/gpu/harness.h"

static int usage(const char *why) {
    fprintf(stderr, "test_gpu: %s\nusage: test_gpu [--quick] [--no-models | --model NAME] [--cpu-vs-cpu | --break OP]\n"
                    "OP is one of:", why);
    for (int i = 0; i < broken_op_count(); i++) fprintf(stderr, " %s", broken_op_name(i));
    fprintf(stderr, "\n");
    return 2;
}

// With OP broken, every row it affects must fail and every other row pass.
static int check_broken_rows(const Harness *h, const char *op) {
    int wrong = 0;
    for (int i = 0; i < h->n_rows; i++) {
        const HarnessRow *r = &h->rows[i];
        int should_fail = broken_op_affects(op, r);
        if (should_fail == !r->ok) continue;
        printf("test-gpu: with %s broken, row '%s %s' %s\n", op, r->check, r->size,
               should_fail ? "still passed: this row cannot fail" : "failed though it does not use it");
        wrong++;
    }
    printf("test-gpu: --break %s: %s\n", op, wrong ? "the harness missed or misplaced failures"
                                                   : "exactly the rows of the broken op failed");
    return wrong ? 1 : 0;
}

int main(int argc, char **argv) {
    Harness h = {.cpu = &ops_cpu, .rng = 0x5eed2024u, .models = 1};
    int cpu_vs_cpu = 0;
    const char *broken = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) h.quick = QUICK_DIVISOR;
        else if (!strcmp(argv[i], "--no-models")) h.models = 0;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) h.model_filter = argv[++i];
        else if (!strcmp(argv[i], "--cpu-vs-cpu")) cpu_vs_cpu = 1;
        else if (!strcmp(argv[i], "--break") && i + 1 < argc) broken = argv[++i];
        else return usage(argv[i]);
    }
    if (broken) {
        h.gpu = broken_ops(broken);
        if (!h.gpu) return usage("unknown op to break");
    } else if (cpu_vs_cpu) {
        h.gpu = &ops_cpu;
    } else {
        const char *why = NULL;
        h.gpu = ops_cuda(&why);
        if (!h.gpu) {
            fprintf(stderr, "test-gpu: CUDA is not available: %s\n", why ? why : "unknown reason");
            return 1;
        }
    }
    int failed = harness_run(&h);
    int rc = broken ? check_broken_rows(&h, broken) : failed != 0;
    harness_free(&h);
    return rc;
}
