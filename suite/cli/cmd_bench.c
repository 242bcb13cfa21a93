// suite bench: training-step throughput (tokens/s, GFLOP/s, MFU, memory) of
// named models on random tokens, and (--tokenizer) the BPE tokenizer's MB/s.
#include <stdio.h>
#include <string.h>

#include "impls/model.h"
#include "kernels/common.h"
#include "kernels/gemm.h"
#include "suite/cli/args.h"
#include "suite/cli/commands.h"
#include "suite/trainer/device.h"

static const char *USAGE =
    "usage: suite bench [--device D] [--model NAME ...] [--batch B] [--seq-len T] [--steps N]\n"
    "       suite bench --tokenizer\n\n"
    "Times whole training steps (forward, backward, AdamW) on random tokens.\n"
    "FLOPs per token = 6 x (per-layer attention 4d^2 + 2Td, FF 2 d dff, routing\n"
    "(MoT 3Ed, EC/TC Ed) and head d V) -- see model_flops_per_token. On the CPU the\n"
    "achieved GFLOP/s is set beside the sgemm rate measured on the spot; on a GPU\n"
    "MFU is against the datasheet dense peak of the GPU model.";

typedef struct {
    const Ops *ops;
    Precision precision;
    int B, T, steps;
    double peak;  // FLOP/s
} BenchSetup;

static int bench_model(const BenchSetup *s, const char *name) {
    char err[1024];
    ModelConfig cfg;
    Model m;
    if (model_config_by_name(name, &cfg, err, sizeof err)) {
        fprintf(stderr, "suite bench: %s\n", err);
        return 1;
    }
    size_t free_before = s->ops->memory_available();
    if (model_create(&m, &cfg, s->ops, s->precision, 1, err, sizeof err) ||
        model_reserve(&m, s->B, s->T, err, sizeof err)) {
        fprintf(stderr, "suite bench: %s: %s\n", name, err);
        if (m.ops) model_free(&m);
        return 1;
    }
    size_t n = m.table.total;
    float *adam_m = s->ops->alloc(n * sizeof(float)), *adam_v = s->ops->alloc(n * sizeof(float));
    size_t used = free_before - s->ops->memory_available();
    size_t N = (size_t)s->B * s->T;
    int *tokens = mallocCheck(N * sizeof(int)), *targets = mallocCheck(N * sizeof(int));
    uint64_t r = 88172645463325252ull;
    for (size_t i = 0; i < N; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        tokens[i] = (int)(r % (uint64_t)cfg.vocab_size);
    }
    for (size_t i = 0; i < N; i++) targets[i] = tokens[(i + 1) % N];
    double start = 0;
    for (int step = 0; step <= s->steps; step++) {  // step 0 warms up
        if (step == 1) {
            s->ops->synchronize();
            start = monotonic_seconds();
        }
        model_zero_grad(&m);
        model_forward_backward(&m, tokens, targets, 1.0f, NULL);
        s->ops->adamw(m.params, m.grads, adam_m, adam_v, n, 1e-4f, 0.9f, 0.999f, 1e-8f, 0.1f, step + 1, 1.0f,
                      precision_bf16_state(s->precision));
    }
    s->ops->synchronize();
    double step_s = (monotonic_seconds() - start) / s->steps;
    double tok_s = N / step_s;
    double flops = model_flops_per_token(&cfg, s->T) * tok_s;
    printf("%-22s %8.2fM %9.0f %10.1f %10.1f %6.1f%%", name, n / 1e6, tok_s, step_s * 1e3, flops / 1e9,
           100 * flops / s->peak);
    // Host RAM is committed lazily, so only a device's free-memory drop means anything.
    if (strcmp(s->ops->name, "cpu")) printf(" %9.2f", used / 1073741824.0);
    printf("\n");
    free(tokens);
    free(targets);
    s->ops->free(adam_m);
    s->ops->free(adam_v);
    model_free(&m);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--tokenizer")) return bench_tokenizer(argc, argv);
    const char *device = "auto", *precision = NULL;
    ArgList models = {0};
    BenchSetup s = {.B = 8, .T = 256, .steps = 3};
    int tokenizer = 0;
    ArgSpec specs[] = {
        {"device", ARG_STRING, &device, "D        cpu | cuda | auto"},
        {"model", ARG_LIST, &models, "NAME      model to time (repeatable; default transformer-mini)"},
        {"batch", ARG_INT, &s.B, "B         sequences per step (default 8; use 256 on a GPU)"},
        {"seq-len", ARG_INT, &s.T, "T       sequence length (default 256)"},
        {"steps", ARG_INT, &s.steps, "N         timed steps after one warm-up (default 3)"},
        {"precision", ARG_STRING, &precision, "P     " PRECISION_CHOICES " (default fp32 on cpu, mixed on cuda)"},
        {"tokenizer", ARG_FLAG, &tokenizer, "     GPT-2 BPE throughput instead"},
    };
    int rc = args_parse(argc, argv, USAGE, specs, sizeof specs / sizeof specs[0], NULL);
    if (rc) return rc == 1 ? 0 : rc;
    if (s.B < 1 || s.T < 1 || s.steps < 1) {
        fprintf(stderr, "suite bench: --batch, --seq-len and --steps must be >= 1\n");
        return 2;
    }
    char err[1024], source[128];
    if (!(s.ops = device_select(device, err, sizeof err))) {
        fprintf(stderr, "suite bench: %s\n", err);
        return 1;
    }
    int is_cpu = !strcmp(s.ops->name, "cpu");
    s.precision = device_default_precision(s.ops);
    if (precision && precision_parse(precision, &s.precision)) {
        fprintf(stderr, "suite bench: --precision must be " PRECISION_CHOICES " (got '%s')\n", precision);
        return 2;
    }
    s.peak = device_peak_flops(s.ops, s.precision, source, sizeof source);
    if (is_cpu) {  // the sgemm rate at the model's own shapes, not just 512^3
        double at_shape = gemm_measure_gflops(s.B * s.T, 1024, 256, 0.5) * 1e9;
        if (at_shape > s.peak) s.peak = at_shape;
        snprintf(source, sizeof source, "measured sgemm %.1f GFLOP/s", s.peak / 1e9);
    }
    printf("device %s (%s) | B=%d T=%d | %d timed steps | %s | %s = 100%%\n", s.ops->name,
           s.ops->device_name(), s.B, s.T, s.steps,
           precision_name(s.precision), source);
    printf("%-22s %9s %9s %10s %10s %7s%s\n", "model", "params", "tok/s", "step ms", "GFLOP/s",
           is_cpu ? "of gemm" : "MFU", is_cpu ? "" : "   mem GiB");
    if (models.count == 0) models.items[models.count++] = "transformer-mini";
    for (int i = 0; i < models.count; i++) rc |= bench_model(&s, models.items[i]);
    return rc;
}
