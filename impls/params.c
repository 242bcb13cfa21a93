#include "impls/params.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "kernels/base/hash.h"
#include "kernels/common.h"

void param_table_init(ParamTable *pt) { memset(pt, 0, sizeof(*pt)); }

void param_table_free(ParamTable *pt) {
    free(pt->items);
    memset(pt, 0, sizeof(*pt));
}

int param_add(ParamTable *pt, const char *name, InitKind init, float init_scale, int ndim,
              ...) {
    if (ndim < 1 || ndim > PARAM_MAX_DIMS) die("tensor %s: %d dims (1..%d allowed)", name, ndim, PARAM_MAX_DIMS);
    if (strlen(name) >= PARAM_NAME_LEN) die("tensor name too long: %s", name);
    if (param_find(pt, name) >= 0) die("tensor %s declared twice", name);
    if (pt->count == pt->capacity) {
        pt->capacity = pt->capacity ? 2 * pt->capacity : 64;
        pt->items = realloc(pt->items, (size_t)pt->capacity * sizeof(ParamInfo));
        if (!pt->items) die("out of memory growing the parameter table");
    }
    ParamInfo *p = &pt->items[pt->count];
    memset(p, 0, sizeof(*p));
    strcpy(p->name, name);
    p->ndim = ndim;
    p->numel = 1;
    p->offset = pt->total;
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = va_arg(ap, int);
        // model_config_check keeps configs in range; a negative dim cast to size_t
        // would otherwise become a huge, wrapped size.
        if (p->shape[i] < 1) die("tensor %s: dimension %d is %d (must be >= 1)", name, i, p->shape[i]);
        if (__builtin_mul_overflow(p->numel, (size_t)p->shape[i], &p->numel))
            die("tensor %s: element count overflows size_t at dimension %d", name, i);
    }
    va_end(ap);
    if (__builtin_add_overflow(pt->total, p->numel, &pt->total) ||
        pt->total > SIZE_MAX / sizeof(float))
        die("parameter table: %zu + %zu elements of tensor %s overflow a byte size", p->offset,
            p->numel, name);
    p->init = init;
    p->init_scale = init_scale;
    return pt->count++;
}

int param_find(const ParamTable *pt, const char *name) {
    for (int i = 0; i < pt->count; i++)
        if (!strcmp(pt->items[i].name, name)) return i;
    return -1;
}

size_t param_offset(const ParamTable *pt, const char *name) {
    int i = param_find(pt, name);
    if (i < 0) die("no tensor named %s in the parameter table", name);
    return pt->items[i].offset;
}

float init_std_for_fan_in(int fan_in) { return sqrtf(0.1f / (float)fan_in); }

// splitmix64: a tiny, well-mixed generator; seeded per tensor from its name.
static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) { return ((splitmix64(s) >> 11) + 0.5) * 0x1.0p-53; }

// FNV-1a from a start value one digit short of the standard offset basis: a slip
// kept on purpose, since changing it would change every initialisation.
static uint64_t name_hash(const char *name) {
    return hash64(name, strlen(name), 1469598103934665603ull);
}

// Normal draw by Box-Muller, rejected and redrawn outside +-cut (a true
// truncated normal, as torch.nn.init.trunc_normal_ with absolute bounds).
static float trunc_normal(uint64_t *s, float std, float cut) {
    for (;;) {
        double u1 = uniform01(s), u2 = uniform01(s);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2) * std;
        if (fabs(z) <= cut) return (float)z;
    }
}

void param_init_host(const ParamTable *pt, float *host, uint64_t seed) {
    for (int i = 0; i < pt->count; i++) {
        const ParamInfo *p = &pt->items[i];
        float *x = host + p->offset;
        uint64_t s = seed ^ name_hash(p->name);
        for (size_t k = 0; k < p->numel; k++) {
            switch (p->init) {
            case INIT_TRUNC_NORMAL: x[k] = trunc_normal(&s, p->init_scale, INIT_TRUNC_CUT); break;
            case INIT_UNIFORM: x[k] = (float)((2.0 * uniform01(&s) - 1.0) * p->init_scale); break;
            case INIT_ONES: x[k] = 1.0f; break;
            case INIT_ZEROS: x[k] = 0.0f; break;
            }
        }
    }
}
